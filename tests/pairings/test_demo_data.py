"""seed_pairings_demo: synthetic figures on the real pairings, all flagged, idempotent, local settings only."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from django.test import override_settings

from core.models import HistoryEvent
from pairings.demo import MIANSI_REASON, SYNTHETIC_SOURCE, demo_pairings
from pairings.figures import fulfilment
from pairings.models import (
    AnnualMandate,
    Deployment,
    FiscalRevenue,
    FlowKind,
    FundFlow,
    Pairing,
    Training,
)
from pairings.reference import WENCHUAN, XINJIANG, XIZANG
from pairings.selectors import mandates_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    call_command("load_regions", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("load_programs", verbosity=0)
    call_command("seed_pairings_demo", verbosity=0)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (FiscalRevenue, AnnualMandate, FundFlow, Deployment, Training, HistoryEvent)
    }


def test_every_synthetic_row_is_flagged_the_figures_hold_together_and_a_second_run_adds_nothing(seeded):
    for model in (FiscalRevenue, FundFlow, Deployment, Training):
        assert model.objects.exists(), model
        assert not model.objects.filter(is_synthetic=False).exists(), model
    assert set(FiscalRevenue.objects.values_list("source", flat=True)) == {SYNTHETIC_SOURCE}

    # A mandate for every pairing the demo gives figures to and the rule gives a share, computed from the rule and
    # the synthetic revenue (Wenchuan: 1 % of last year's); none where the rule gives no share (Shenzhen → Gansu).
    chosen = demo_pairings(
        list(Pairing.objects.select_related("program", "assisting_organization__region", "recipient_region"))
    )
    assert {p.program.code for p in chosen} == {WENCHUAN, XINJIANG, XIZANG}
    for pairing in chosen:
        if pairing.parent_id is None and pairing.mandate_from_rule:
            assert pairing.mandates.exists(), pairing
    assert not AnnualMandate.objects.filter(pairing__mandate_from_rule=False).exists()
    # Every assisting party of every programme has a pairing with figures to rank.
    for code in (XINJIANG, XIZANG):
        parties = set(Pairing.objects.filter(program__code=code).values_list("assisting_organization", flat=True))
        with_figures = set(
            AnnualMandate.objects.filter(pairing__program__code=code).values_list(
                "pairing__assisting_organization", flat=True
            )
        )
        assert parties == with_figures, code
    mandate = AnnualMandate.objects.get(
        pairing__program__code=WENCHUAN, pairing__recipient_region__code="513221", year=2009
    )
    assert mandate.basis_revenue.year == 2008
    assert mandate.basis_revenue.is_synthetic
    # Guangdong's 1 % is Wenchuan county's alone (the Gansu areas are Shenzhen's and take no share of it).
    assert mandate.shared_by == 1
    assert mandate.funds_required == (mandate.basis_revenue.amount * Decimal("0.01")).quantize(Decimal("0.01"))

    # Zhuhai → Miansi: allocated by hand from Guangdong → Wenchuan; no breakdown exceeds its parent.
    miansi = AnnualMandate.objects.filter(
        pairing__recipient_region__code__startswith="513221", pairing__parent__isnull=False
    )
    assert miansi.count() == 3
    assert all(m.is_manual and m.reason == MIANSI_REASON for m in miansi)
    assert miansi.aggregate(s=Sum("funds_required"))["s"] == Decimal(340_000_000)
    for child in AnnualMandate.objects.filter(pairing__parent__isnull=False):
        siblings = AnnualMandate.objects.filter(pairing__parent=child.pairing.parent, year=child.year)
        parent = AnnualMandate.objects.get(pairing=child.pairing.parent, year=child.year)
        assert siblings.aggregate(s=Sum("funds_required"))["s"] <= parent.funds_required

    # Wenchuan: received ÷ committed about 68 %, as published for April 2010.
    wenchuan = FundFlow.objects.filter(pairing__program__code=WENCHUAN)
    committed = wenchuan.filter(kind=FlowKind.COMMITMENT).aggregate(s=Sum("amount"))["s"]
    received = wenchuan.filter(kind=FlowKind.DISBURSEMENT).aggregate(s=Sum("amount"))["s"]
    assert Decimal("0.6") <= received / committed <= Decimal("0.75")

    # Fulfilment varies between pairings, from under half to above the mandate.
    rates: list[Decimal] = []
    for pairing in Pairing.objects.filter(mandates__isnull=False).distinct():
        mandates = list(mandates_for(pairing))
        required = sum((m.funds_required for m in mandates), Decimal(0))
        rate = fulfilment(sum((m.received for m in mandates), Decimal(0)), required)
        assert rate is not None, pairing
        rates.append(rate)
    assert min(rates) < Decimal("0.5")
    assert max(rates) > Decimal("1.05")

    # Some pledges are committed, some still outstanding.
    pledges = FundFlow.objects.filter(kind=FlowKind.PLEDGE)
    assert pledges.filter(commitment__isnull=False).exists()
    assert pledges.filter(commitment__isnull=True).exists()

    # Group-style medical and education teams only in Xizang, from 2015.
    group = Deployment.objects.filter(group_style=True)
    assert group.exists()
    assert set(group.values_list("pairing__program__code", flat=True)) == {XIZANG}
    assert min(d.start_date.year for d in group) >= 2015
    assert Deployment.objects.filter(kind="cadre").exists()

    # Running again adds nothing (one seeding serves both checks: it takes seconds on PostgreSQL).
    before = counts()
    call_command("seed_pairings_demo", verbosity=0)
    call_command("load_programs", verbosity=0)
    assert counts() == before


@override_settings(DUIKOU_DEMO_ENABLED=False)
def test_refuses_outside_local_settings(db):
    with pytest.raises(CommandError, match="only for local"):
        call_command("seed_pairings_demo", verbosity=0)
    assert not FundFlow.objects.exists()


def test_says_to_load_the_programmes_first(db):
    with pytest.raises(CommandError, match="load_programs"):
        call_command("seed_pairings_demo", verbosity=0)


def test_every_text_the_demo_writes_is_chinese_as_stored_and_english_on_an_english_page(seeded):
    """Issue #13: the demo was half English in Chinese ("合成 synthetic demo figure", "第4批 (batch 4)"). Each text it
    writes into a free-text field is Chinese as stored and has its English (core/demo_texts.py); a batch that is
    a year is the same in both."""
    from django.utils import translation

    from core.demo_texts import english_of, in_language

    texts = {
        *FiscalRevenue.objects.values_list("source", flat=True),
        *AnnualMandate.objects.exclude(reason="").values_list("reason", flat=True),
        *FundFlow.objects.exclude(note="").values_list("note", flat=True),
        *Deployment.objects.exclude(batch__regex=r"^\d{4}$").values_list("batch", flat=True),
        *Deployment.objects.values_list("note", flat=True),
        *Training.objects.values_list("topic", flat=True),
        *Training.objects.values_list("note", flat=True),
    }
    assert texts
    for text in texts:
        english = english_of(text)
        assert english, f"no English for {text!r}"
        assert not re.search(r"[A-Za-z]", text), f"English in the Chinese {text!r}"
        assert not re.search(r"[\u4e00-\u9fff]", english), f"Chinese in the English {english!r}"
        with translation.override("en"):
            assert in_language(text) == english
        with translation.override("zh-hans"):
            assert in_language(text) == text
