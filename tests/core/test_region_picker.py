"""The region picker: a region is typed as a name (Chinese or English) or a code; the picker offers the matches as
one types; a form takes a unique name as well as a code and says which codes an ambiguous name has."""

import pytest
from django.test import Client

from accounts.forms import RegionChoiceField
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["疏附", "shufu", "Shufu", "6531"])
def test_typing_part_of_a_name_or_code_offers_the_region(world, typed):
    client = Client()
    client.force_login(world.assisting)
    html = client.get("/regions/options/", {"field": "location", "location": typed}).content.decode()
    assert '<option value="653121">疏附县 · Shufu County (653121)</option>' in html


def test_the_picker_needs_a_sign_in_and_bears_odd_input(world):
    assert Client().get("/regions/options/", {"field": "location", "location": "疏附"}).status_code == 302
    client = Client()
    client.force_login(world.assisting)
    for params in ({}, {"field": "location"}, {"field": "location", "location": "\x00" * 3}, {"field": "x" * 500}):
        response = client.get("/regions/options/", params)
        assert response.status_code == 200
        assert "<option" not in response.content.decode()


def test_a_form_takes_a_code_or_a_unique_name(world):
    field = RegionChoiceField(required=False)
    assert field.clean("653121") == world.shufu
    assert field.clean("疏附县") == world.shufu
    assert field.clean("shufu county") == world.shufu
    assert field.clean("") is None
    RegionFactory(code="999001", name="同名县", name_en="Twin County", parent=world.kashgar)
    RegionFactory(code="999002", name="同名县", name_en="Twin County", parent=world.kashgar)
    with pytest.raises(Exception, match="999001, 999002"):
        field.clean("同名县")
    with pytest.raises(Exception, match=r"没有|No region"):
        field.clean("不存在县")


def test_the_project_form_offers_the_picker(world, pw):
    client = Client()
    client.force_login(world.assisting)
    html = client.get("/projects/new/").content.decode()
    assert 'list="id_location-options"' in html
    assert 'hx-get="/regions/options/?field=location"' in html
    assert '<datalist id="id_location-options">' in html
