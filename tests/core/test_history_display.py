"""History reads as people read it: field labels and choices in the reader's language, names for objects."""

import pytest
from django.template import Context, Template
from django.utils import translation

from accounts.models import OrganizationKind
from core.services import history_record

pytestmark = pytest.mark.django_db

TEMPLATE = Template(
    "{% load history %}{% for name, c in e.changes.items %}"
    "{{ e|field_label:name }}={% history_value e name c.old %}>{% history_value e name c.new %};{% endfor %}"
)


def render(event) -> str:
    return TEMPLATE.render(Context({"e": event}))


def test_objects_are_recorded_with_their_label_and_shown_by_it(world):
    event = history_record(obj=world.shenzhen_gov, action="updated", changes={"parent": (None, world.guangdong_gov)})
    assert event.changes["parent"] == {"old": None, "new": {"id": world.guangdong_gov.pk, "label": "广东省人民政府"}}
    with translation.override("en"):
        assert render(event) == "parent organization=—>广东省人民政府;"


def test_choices_and_field_names_are_translated(world):
    event = history_record(
        obj=world.shenzhen_gov,
        action="updated",
        changes={"kind": (OrganizationKind.MUNICIPAL_GOVERNMENT, OrganizationKind.AGENCY), "is_active": (True, False)},
    )
    with translation.override("zh-hans"):
        assert render(event) == "类型=市级政府>机构部门;启用=是>否;"
    with translation.override("en"):
        assert render(event) == "kind=Municipal government>Agency;active=yes>no;"


def test_roles_are_shown_by_their_labels(world):
    event = history_record(
        obj=world.assisting,
        action="roles_changed",
        changes={"roles": (["assisting_officer"], ["approver", "supervisor"])},
    )
    with translation.override("en"):
        assert render(event) == "roles=Assisting officer>Approver、Supervisor;"


def test_chinese_names_read_family_name_first(world):
    world.assisting.first_name, world.assisting.last_name = "志明", "陈"
    assert world.assisting.get_full_name() == "陈志明"
    world.assisting.first_name, world.assisting.last_name = "Alice", "Wong"
    assert world.assisting.get_full_name() == "Alice Wong"


def test_fields_a_model_does_not_have_are_named_in_the_readers_language(world, pw):
    """A project's inspection tells how many rectifications it raised (a reverse relation of the project, not a
    field); a pairing's history tells of its trainings: no raw field name reaches the page."""
    from projects import services as project_services

    project = project_services.project_create(by=None, pairing=pw.shufu, title="疏附县第二幼儿园")
    inspection = history_record(obj=project, action="inspected", changes={"rectifications": (None, 2)})
    training = history_record(obj=pw.shufu, action="training_recorded", changes={"people_trained": (None, 40)})
    with translation.override("zh-hans"):
        assert "rectifications" not in render(inspection)
        assert "people_trained" not in render(training)
    with translation.override("en"):
        assert render(inspection) == "rectifications=—>2;"
        assert render(training) == "people trained=—>40;"


def test_the_timeline_names_people_not_usernames(world):
    world.assisting.first_name, world.assisting.last_name = "国华", "王"
    world.assisting.save()
    event = history_record(obj=world.shenzhen_gov, action="updated", actor=world.assisting, changes={})
    html = Template('{% include "includes/history.html" %}').render(Context({"events": [event]}))
    assert world.assisting.get_full_name() in html
    assert world.assisting.username not in html
