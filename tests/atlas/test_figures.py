"""The figures layer's grouped figures the map reads: each group's the same as the group taken as a scope."""

import pytest

from pairings import figures as pairing_figures
from pairings.models import Pairing
from projects import figures as project_figures

pytestmark = pytest.mark.django_db


def test_money_and_projects_by_group_equal_each_group_as_a_scope(pw, mw):
    groups = {
        "parent and child": [pw.shufu.pk, mw.town_child.pk],
        "child alone": [mw.town_child.pk],
        "parent alone": [pw.shufu.pk],
        "three recipients": [pw.jiashi.pk, mw.aksu.pk, mw.town_child.pk],
        "empty": [],
    }
    money = pairing_figures.money_by_group(groups)
    counts = project_figures.scope_stage_counts_by_group(groups)
    for key, ids in groups.items():
        scope = Pairing.objects.filter(pk__in=ids)
        assert money[key] == pairing_figures.money(scope), key
        assert counts[key] == project_figures.scope_stage_counts(scope), key
    # The child's own mandate counts only when its parent is not in the group.
    assert money["child alone"].required == mw.town_child.mandates.get().funds_required
    assert money["parent and child"].required == money["parent alone"].required


def test_grouped_figures_take_a_fixed_number_of_queries(pw, mw, django_assert_num_queries):
    groups = {i: [pw.shufu.pk, pw.jiashi.pk, mw.aksu.pk][: i + 1] for i in range(3)}
    with django_assert_num_queries(2):  # each pairing's own money (one statement), the pairings' parents
        pairing_figures.money_by_group(groups)
    with django_assert_num_queries(1):
        project_figures.scope_stage_counts_by_group(groups)
