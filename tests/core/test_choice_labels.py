"""`get_FOO_display()` through core.models.ChoiceLabels: Django's labels, in the active language, built once."""

import pytest
from django.db import models
from django.utils import translation

from pairings.models import FundFlow
from projects.models import Project

pytestmark = pytest.mark.django_db


def django_label(obj: models.Model, name: str) -> object:
    """What Django's own get_FOO_display answers (models.Model._get_FIELD_display, bypassing the mixin)."""
    return models.Model._get_FIELD_display(obj, obj._meta.get_field(name))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_label_is_djangos_in_each_language(language):
    project = Project(state="in_construction", sector="education", category="infrastructure")
    flow = FundFlow(kind="disbursement", source="assisting_fiscal")
    with translation.override(language):
        for obj, name in [(project, "state"), (project, "sector"), (project, "category"), (flow, "kind")]:
            field = obj._meta.get_field(name)
            for value, _label in field.flatchoices:
                setattr(obj, field.attname, value)
                assert getattr(obj, f"get_{name}_display")() == django_label(obj, name)


def test_the_label_follows_the_active_language_and_an_unknown_value_is_itself():
    project = Project(state="approved")
    with translation.override("en"):
        assert project.get_state_display() == "Approved"
    with translation.override("zh-hans"):
        assert project.get_state_display() != "Approved"
        assert project.get_state_display() == django_label(project, "state")
    project.state = "no-such-state"
    assert project.get_state_display() == "no-such-state"
