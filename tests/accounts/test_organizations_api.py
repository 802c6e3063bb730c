"""/api/v1/organizations/: the directory of parties, readable by anyone signed in, extended by national
coordinators only."""

import pytest

from accounts.models import Organization, OrganizationKind, Role
from core.models import HistoryEvent
from tests.conftest import api_as
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/organizations/"


def names(response) -> list[str]:
    return [o["name"] for o in response.json()["results"]]


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


def test_list_shows_every_active_organization_in_path_order(world):
    response = api_as(world.outsider).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert body["previous"] is None
    assert body["next"] is None
    assert [o["id"] for o in body["results"]] == list(
        Organization.objects.order_by("path").values_list("pk", flat=True)
    )
    shenzhen = next(o for o in body["results"] if o["id"] == world.shenzhen_gov.pk)
    assert shenzhen == {
        "id": world.shenzhen_gov.pk,
        "name": "深圳市人民政府",
        "name_en": "Shenzhen",
        "kind": "municipal_government",
        "region": "440300",
        "parent": world.guangdong_gov.pk,
        "is_active": True,
    }


def test_inactive_organizations_are_listed_only_to_national_users(world):
    Organization.objects.filter(pk=world.jiangsu_gov.pk).update(is_active=False)

    seen_by_outsider = names(api_as(world.assisting).get(URL))
    seen_by_coordinator = names(api_as(world.coordinator).get(URL))

    assert "江苏省人民政府" not in seen_by_outsider
    assert len(seen_by_outsider) == 5
    assert "江苏省人民政府" in seen_by_coordinator
    assert len(seen_by_coordinator) == 6


def test_list_filters_by_kind(world):
    response = api_as(world.assisting).get(URL, {"kind": "municipal_government"})

    assert response.status_code == 200
    assert sorted(names(response)) == sorted(["深圳市人民政府", "喀什地区行政公署"])


def test_list_filters_by_parent(world):
    response = api_as(world.assisting).get(URL, {"parent": world.guangdong_gov.pk})

    assert names(response) == ["深圳市人民政府"]


def test_list_filters_by_region_code(world):
    response = api_as(world.assisting).get(URL, {"region": "653121"})

    assert names(response) == ["疏附县人民政府"]


def test_list_searches_chinese_and_english_names(world):
    assert names(api_as(world.assisting).get(URL, {"search": "深圳"})) == ["深圳市人民政府"]
    assert names(api_as(world.assisting).get(URL, {"search": "kashg"})) == ["喀什地区行政公署"]


def test_list_filter_with_an_unknown_kind_is_400_naming_kind(world):
    response = api_as(world.assisting).get(URL, {"kind": "ministry"})

    assert response.status_code == 400
    assert errors(response) == [("invalid_choice", "kind")]


def test_list_is_paginated_with_count_next_and_previous(world):
    client = api_as(world.assisting)

    first = client.get(URL, {"page_size": 4}).json()
    second = client.get(URL, {"page_size": 4, "page": 2}).json()

    assert first["count"] == second["count"] == 6
    assert len(first["results"]) == 4
    assert len(second["results"]) == 2
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert second["next"] is None
    assert second["previous"] is not None
    assert {o["id"] for o in first["results"]}.isdisjoint({o["id"] for o in second["results"]})


def test_page_size_is_capped_at_200(world):
    for i in range(205):
        OrganizationFactory(name=f"机构{i:03d}")

    body = api_as(world.assisting).get(URL, {"page_size": 1000}).json()

    assert body["count"] == 211
    assert len(body["results"]) == 200


def test_detail_returns_one_organization(world):
    response = api_as(world.recipient).get(f"{URL}{world.kashgar_gov.pk}/")

    assert response.status_code == 200
    assert response.json()["region"] == "653100"


def test_detail_of_an_unknown_organization_is_404_in_the_error_format(world):
    response = api_as(world.recipient).get(f"{URL}999999/")

    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]


@pytest.mark.parametrize("rows", [3, 40])
def test_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries, rows):
    parent = world.guangdong_gov
    for _ in range(rows):
        parent = OrganizationFactory(parent=parent, region=world.shenzhen)
    client = api_as(world.assisting)

    # Count, the page with regions and parents joined; nothing per row.
    with django_assert_max_num_queries(2):
        response = client.get(URL, {"page_size": 200})

    assert response.status_code == 200
    assert response.json()["count"] == 6 + rows


def test_national_coordinator_creates_an_organization(world):
    response = api_as(world.coordinator).post(
        URL,
        {
            "name": "珠海市人民政府",
            "name_en": "Zhuhai",
            "kind": "municipal_government",
            "region": "440300",
            "parent": world.guangdong_gov.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    org = Organization.objects.get(name="珠海市人民政府")
    assert response.json() == {
        "id": org.pk,
        "name": "珠海市人民政府",
        "name_en": "Zhuhai",
        "kind": "municipal_government",
        "region": "440300",
        "parent": world.guangdong_gov.pk,
        "is_active": True,
    }
    assert org.path == f"{world.guangdong_gov.path}{org.pk}/"
    assert org.region == world.shenzhen
    assert Organization.objects.under(world.guangdong_gov).filter(pk=org.pk).exists()
    event = HistoryEvent.objects.for_object(org).get()
    assert event.action == "created"
    assert event.actor == world.coordinator
    assert event.changes == {
        "name": {"old": None, "new": "珠海市人民政府"},
        "kind": {"old": None, "new": "municipal_government"},
    }


def test_a_top_level_organization_gets_a_root_path(world):
    response = api_as(world.coordinator).post(URL, {"name": "某中央企业", "kind": "central_enterprise"}, format="json")

    assert response.status_code == 201
    org = Organization.objects.get(pk=response.json()["id"])
    assert org.path == f"/{org.pk}/"
    assert org.region is None
    assert org.parent is None


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.NATIONAL_COORDINATOR])
def test_only_a_national_coordinator_may_create_organizations(world, role):
    user = UserFactory(username=f"u-{role}", organization=world.guangdong_gov, roles=[role])

    response = api_as(user).post(URL, {"name": "新机构", "kind": "agency"}, format="json")

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]
    assert not Organization.objects.filter(name="新机构").exists()
    assert not HistoryEvent.objects.filter(action="created").exists()


def test_the_coordinator_role_outside_the_central_office_does_not_create_organizations(world):
    provincial = UserFactory(organization=world.guangdong_gov, roles=[Role.NATIONAL_COORDINATOR])

    response = api_as(provincial).post(URL, {"name": "新机构", "kind": "agency"}, format="json")

    assert response.status_code == 403
    assert not Organization.objects.filter(name="新机构").exists()


def test_duplicate_name_is_400_on_name_with_code_duplicate(world):
    response = api_as(world.coordinator).post(URL, {"name": "广东省人民政府", "kind": "agency"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("duplicate", "name")]
    assert Organization.objects.filter(name="广东省人民政府").count() == 1


def test_name_with_surrounding_spaces_is_still_a_duplicate(world):
    response = api_as(world.coordinator).post(URL, {"name": " 广东省人民政府 ", "kind": "agency"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("duplicate", "name")]
    assert Organization.objects.count() == 6


def test_unknown_region_code_is_400_on_region(world):
    response = api_as(world.coordinator).post(
        URL, {"name": "新机构", "kind": "agency", "region": "999999"}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("does_not_exist", "region")]
    assert not Organization.objects.filter(name="新机构").exists()


def test_unknown_kind_is_400_on_kind(world):
    response = api_as(world.coordinator).post(URL, {"name": "新机构", "kind": "ministry"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("invalid_choice", "kind")]
    assert not Organization.objects.filter(name="新机构").exists()


def test_unknown_parent_is_400_on_parent(world):
    response = api_as(world.coordinator).post(
        URL, {"name": "新机构", "kind": "agency", "parent": 999999}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("does_not_exist", "parent")]


def test_missing_name_and_kind_are_both_reported(world):
    response = api_as(world.coordinator).post(URL, {"name_en": "Nameless"}, format="json")

    assert response.status_code == 400
    assert sorted(errors(response)) == [("required", "kind"), ("required", "name")]
    assert Organization.objects.count() == 6


def test_read_only_and_unknown_fields_are_refused_on_create(world):
    response = api_as(world.coordinator).post(
        URL, {"name": "新机构", "kind": "agency", "path": "/1/", "colour": "red"}, format="json"
    )

    assert response.status_code == 400
    assert sorted(errors(response)) == [("unknown_field", "colour"), ("unknown_field", "path")]
    assert not Organization.objects.filter(name="新机构").exists()


def test_organizations_cannot_be_changed_or_deleted_through_the_api(world):
    client = api_as(world.coordinator)
    url = f"{URL}{world.jiangsu_gov.pk}/"

    patched = client.patch(url, {"name": "改名"}, format="json")
    deleted = client.delete(url)

    assert patched.status_code == deleted.status_code == 405
    assert errors(patched) == [("method_not_allowed", None)]
    world.jiangsu_gov.refresh_from_db()
    assert world.jiangsu_gov.name == "江苏省人民政府"


def test_anonymous_callers_get_401(api, world):
    assert api.get(URL).status_code == 401
    response = api.post(URL, {"name": "新机构", "kind": "agency"}, format="json")
    assert response.status_code == 401
    assert errors(response) == [("not_authenticated", None)]


def test_kind_values_are_the_design_names(world):
    # The contract's names; a rename would break every client.
    assert set(OrganizationKind.values) == {
        "central_office",
        "provincial_government",
        "municipal_government",
        "county_government",
        "central_enterprise",
        "agency",
    }
