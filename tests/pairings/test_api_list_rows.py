"""The API's list of pairings written from plain values (pairings.api.serializers.pairing_list_rows): byte for byte
what PairingSerializer wrote of each row, in both languages."""

import datetime as dt

import pytest
from django.db.models import Prefetch
from django.utils import translation

from core.api.renderers import ORJSONRenderer
from core.models import RegionLevel
from pairings import selectors, services
from pairings.api.serializers import PAIRING_LIST_COLUMNS, PairingSerializer, pairing_list_rows
from pairings.models import Pairing
from tests.conftest import api_as
from tests.factories import RegionFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(world, pw) -> None:
    """A breakdown with children, sources, an ended and unverified pairing, and a party without an English name."""
    for i in range(2):
        town = RegionFactory(code=f"65312120{i}", level=RegionLevel.TOWNSHIP, parent=world.shufu, name_en="")
        services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=world.shenzhen_gov,
            recipient_region=town,
            parent=pw.shufu,
            start_date=dt.date(2011, 1, 1),
            source="《深圳市对口支援疏附县工作方案》",
        )
    pw.shufu.sources.add(SourceFactory(key="b-source", publisher=""), SourceFactory(key="a-source", is_mirror=True))
    pw.jiashi.sources.add(SourceFactory(key="c-source", url="", published="2010"))
    Pairing.objects.filter(pk=pw.jiashi.pk).update(
        status="ended", end_date=dt.date(2020, 12, 31), evidence="unverified", note="备注 <b>&</b>", mode_reason="x"
    )
    Pairing.objects.filter(pk=pw.shufu.pk).update(covers_unsourced=True, start_precision="month")
    world.shenzhen_gov.name_en = ""
    world.shenzhen_gov.save()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_are_what_the_serializer_wrote(world, pw, varied, language):
    renderer = ORJSONRenderer()
    with translation.override(language):
        instances = (
            selectors.pairings_visible_to(world.coordinator)
            .prefetch_related(Prefetch("children", queryset=Pairing.objects.only("id", "parent_id").order_by("id")))
            .prefetch_related("sources")
            .order_by("id")
        )
        before = PairingSerializer(instances, many=True).data
        rows = pairing_list_rows(list(Pairing.objects.order_by("id").values_list(*PAIRING_LIST_COLUMNS)))
        assert len(rows) == 4
        assert any(r["children"] for r in rows)
        assert any(r["end_date"] for r in rows)
        assert renderer.render(rows) == renderer.render(before)
        assert [list(r) for r in rows] == [list(r) for r in before]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_list_shows_each_pairing_as_its_own_page_does(world, pw, varied, language):
    for user in (world.coordinator, world.assisting):
        client = api_as(user)
        for params in ({}, {"ordering": "-recipient_region"}, {"status": "active", "page_size": 2, "page": 2}):
            listed = client.get("/api/v1/pairings/", params, HTTP_ACCEPT_LANGUAGE=language).json()["results"]
            assert listed
            for row in listed:
                own = client.get(f"/api/v1/pairings/{row['id']}/", HTTP_ACCEPT_LANGUAGE=language)
                assert row == own.json()
