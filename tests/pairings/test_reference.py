"""load_programs on the real region file: the three programmes of facts.md, their rules and the real pairings."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Organization, User
from core.models import HistoryEvent, Region, RegionLevel
from pairings.models import FundingRule, Pairing, PairingStatus, Program
from pairings.reference import WENCHUAN, XINJIANG, XIZANG

pytestmark = pytest.mark.django_db

#: (assisting government, recipient code) of the 20 Wenchuan pairings of facts.md.
WENCHUAN_PAIRS = {
    ("山东省人民政府", "510726"),  # Beichuan
    ("广东省人民政府", "513221"),  # Wenchuan
    ("浙江省人民政府", "510822"),  # Qingchuan
    ("江苏省人民政府", "510683"),  # Mianzhu
    ("北京市人民政府", "510682"),  # Shifang
    ("上海市人民政府", "510181"),  # Dujiangyan
    ("河北省人民政府", "510727"),  # Pingwu
    ("辽宁省人民政府", "510705"),  # An County, now Anzhou district
    ("河南省人民政府", "510781"),  # Jiangyou
    ("福建省人民政府", "510182"),  # Pengzhou
    ("山西省人民政府", "513223"),  # Mao County
    ("湖南省人民政府", "513222"),  # Li County
    ("吉林省人民政府", "513228"),  # Heishui
    ("安徽省人民政府", "513224"),  # Songpan
    ("江西省人民政府", "513227"),  # Xiaojin
    ("湖北省人民政府", "511823"),  # Hanyuan
    ("重庆市人民政府", "510184"),  # Chongzhou
    ("黑龙江省人民政府", "510823"),  # Jiange
    ("广东省人民政府", "620000"),  # the hard-hit areas of Gansu
    ("天津市人民政府", "610000"),  # the hard-hit areas of Shaanxi
}
XINJIANG_PAIRS = {
    ("北京市人民政府", "653201"),  # Hotan city
    ("北京市人民政府", "653221"),  # Hotan county
    ("北京市人民政府", "653222"),  # Moyu
    ("北京市人民政府", "653224"),  # Luopu
    ("广东省人民政府", "653121"),  # Shufu
    ("广东省人民政府", "653129"),  # Jiashi
    ("深圳市人民政府", "653101"),  # Kashgar city
    ("深圳市人民政府", "653131"),  # Tashkurgan
    ("上海市人民政府", "653125"),  # Shache
    ("安徽省人民政府", "653223"),  # Pishan
    ("吉林省人民政府", "654300"),  # Altay prefecture
}
XIZANG_PAIRS = {
    ("江苏省人民政府", "540100"),  # Lhasa
    ("天津市人民政府", "540300"),  # Chamdo
    ("浙江省人民政府", "542400"),  # Nagqu (那曲地区 in this data)
    ("陕西省人民政府", "542500"),  # Ngari
    ("上海市人民政府", "540200"),  # Shigatse
    ("福建省人民政府", "540400"),  # Nyingchi
    ("吉林省人民政府", "540236"),  # Saga county
}


@pytest.fixture
def regions(db):
    call_command("load_regions", verbosity=0)


def load(**kwargs) -> str:
    out = StringIO()
    call_command("load_programs", stdout=out, **kwargs)
    return out.getvalue()


def pairs(program: str) -> set[tuple[str, str]]:
    return {
        (p.assisting_organization.name, p.recipient_region.code)
        for p in Pairing.objects.filter(program__code=program, parent__isnull=True).select_related(
            "assisting_organization", "recipient_region"
        )
    }


def snapshot() -> dict[str, int]:
    return {
        "programs": Program.objects.count(),
        "rules": FundingRule.objects.count(),
        "pairings": Pairing.objects.count(),
        "organizations": Organization.objects.count(),
        "regions": Region.objects.count(),
        "history": HistoryEvent.objects.count(),
    }


def test_three_programmes_with_their_rules(regions):
    load(verbosity=0)
    programs = {p.code: p for p in Program.objects.all()}
    assert set(programs) == {XIZANG, WENCHUAN, XINJIANG}

    xizang = programs[XIZANG]
    assert (xizang.model, xizang.start_year, xizang.end_year) == ("border_governance", 1994, None)
    rules = list(xizang.rules.order_by("version"))
    assert [r.rate for r in rules] == [Decimal("0.001"), Decimal("0.001")]
    assert (rules[0].min_county_share, rules[0].min_livelihood_share) == (None, None)
    assert (rules[1].min_county_share, rules[1].min_livelihood_share) == (Decimal("0.8"), Decimal("0.8"))
    assert "2014" in rules[1].reason

    wenchuan = programs[WENCHUAN]
    assert (wenchuan.model, wenchuan.start_year, wenchuan.end_year) == ("disaster_response", 2008, 2010)
    (rule,) = wenchuan.rules.all()
    assert (rule.basis, rule.rate, rule.escalation) == ("fiscal_revenue", Decimal("0.01"), None)

    xinjiang = programs[XINJIANG]
    assert (xinjiang.model, xinjiang.start_year) == ("development", 2011)
    (rule,) = xinjiang.rules.all()
    assert (rule.rate, rule.escalation, rule.escalation_years) == (Decimal("0.005"), Decimal("0.08"), 4)
    assert (rule.min_county_share, rule.min_livelihood_share) == (Decimal("0.8"), Decimal("0.7"))
    assert "more than 70 % of funds to livelihood and more than 80 % to county level and below" in rule.source


def test_the_twenty_wenchuan_pairings_as_they_were(regions):
    load(verbosity=0)
    assert pairs(WENCHUAN) == WENCHUAN_PAIRS
    wenchuan = Pairing.objects.filter(program__code=WENCHUAN)
    assert wenchuan.count() == 21  # with Zhuhai → Miansi
    for pairing in wenchuan:
        assert pairing.status == PairingStatus.ENDED
        assert (pairing.start_date, pairing.end_date) == (dt.date(2008, 6, 1), dt.date(2010, 12, 31))
        ended = HistoryEvent.objects.for_object(pairing).get(action="ended")
        assert ended.comment == "Programme period ended (2008–2010)"
        assert "2008-06-01" in pairing.source

    guangdong = wenchuan.get(assisting_organization__name="广东省人民政府", recipient_region__code="513221")
    assert guangdong.contracting_mode == "diagonal"
    gansu = wenchuan.get(recipient_region__code="620000")
    assert "hard-hit areas" in gansu.note

    (miansi,) = guangdong.children.all()
    assert miansi.assisting_organization.name == "珠海市人民政府"
    assert miansi.assisting_organization.parent == guangdong.assisting_organization
    town = miansi.recipient_region
    assert (town.name, town.level, town.parent.code) == ("绵虒镇", RegionLevel.TOWNSHIP, "513221")
    assert town.code.startswith("513221") and town.source
    assert "55 projects" in miansi.note and "340 million" in miansi.note and "88 %" in miansi.note
    assert "China Today 2010" in miansi.note


def test_xinjiang_and_xizang_pairings_are_active_and_the_unloadable_ones_are_said(regions):
    out = load(verbosity=1)
    assert pairs(XINJIANG) == XINJIANG_PAIRS
    assert pairs(XIZANG) == XIZANG_PAIRS
    running = Pairing.objects.filter(program__code__in=[XINJIANG, XIZANG])
    assert running.count() == len(XINJIANG_PAIRS) + len(XIZANG_PAIRS)
    assert set(running.values_list("status", flat=True)) == {PairingStatus.ACTIVE}
    assert not Pairing.objects.filter(assisting_organization__name="珠海市人民政府", program__code=XIZANG).exists()
    altay = running.get(recipient_region__code="654300")
    assert altay.contracting_mode == "diagonal"
    assert "XPCC 14th division" in out and "Zhuhai → Nyingchi" in out


def test_every_programme_rule_and_pairing_carries_its_source(regions):
    load(verbosity=0)
    for model in (Program, FundingRule, Pairing):
        assert model.objects.exists()
        for row in model.objects.all():
            assert row.source.strip(), row


def test_running_twice_changes_nothing_and_is_quiet_at_verbosity_0(regions):
    assert load(verbosity=0) == ""
    before = snapshot()
    assert load(verbosity=0) == ""
    assert snapshot() == before


def test_seed_demo_reuses_the_governments_it_shares_with_the_reference_data(regions):
    load(verbosity=0)
    guangdong = Organization.objects.get(name="广东省人民政府")
    call_command("seed_demo", verbosity=0)
    assert Organization.objects.get(name="广东省人民政府").pk == guangdong.pk
    assert User.objects.get(username="assisting_officer").organization == guangdong
    for name in ["深圳市人民政府", "珠海市人民政府"]:
        assert Organization.objects.get(name=name).parent == guangdong
    before = snapshot()
    load(verbosity=0)
    assert snapshot() == before


def test_needs_the_regions(db):
    with pytest.raises(CommandError, match="load_regions"):
        load(verbosity=0)
    assert not Program.objects.exists()
