"""Statements compiled once from the ORM (core.statements): the rows are the queryset's own, converters included;
the ids go in as one array; the queryset is built once per key, and a key that changes builds it again."""

import re
from typing import Any

import pytest
from django.db import connection
from django.db.models import CharField, IntegerField, Value
from django.test.utils import CaptureQueriesContext

from accounts.models import Organization
from core.statements import MARKER, ForIds, Statement, UnexpectedSql, _rewrite
from evaluation.models import IndicatorFramework
from pairings.models import Program
from tests.factories import OrganizationFactory, ProgramFactory

pytestmark = pytest.mark.django_db


class Counting:
    """A BUILD that counts how often it is called."""

    def __init__(self, build: Any) -> None:
        self.build, self.calls = build, 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.build(*args)


def test_the_ids_go_in_as_one_array_wherever_the_marker_is():
    sql, params = _rewrite('SELECT 1 FROM t WHERE (t."a" IN (%s) AND t."b" = %s) OR t."c" IN (%s)', [MARKER, 5, MARKER])
    assert sql == 'SELECT 1 FROM t WHERE (t."a" = ANY(%s) AND t."b" = %s) OR t."c" = ANY(%s)'
    assert params[1] == 5
    assert params[0] is params[2]
    assert params[0] != MARKER


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ('SELECT 1 FROM t WHERE t."a" = %s', [MARKER]),  # the marker outside IN (…)
        ('SELECT 1 FROM t WHERE t."a" IN (%s, %s)', [MARKER, 3]),  # the marker among other ids
        ('SELECT 1 FROM t WHERE t."a" IN (%s)', [3]),  # no marker at all
        ('SELECT 1 FROM t WHERE t."a" IN (%s) AND t."b" LIKE \'x%%\'', [MARKER]),  # a literal %
        ('SELECT 1 FROM t WHERE t."a" IN (%s)', [MARKER, 1]),  # more parameters than placeholders
    ],
)
def test_sql_of_another_shape_is_refused(sql, params):
    with pytest.raises(UnexpectedSql):
        _rewrite(sql, params)


def test_for_ids_gives_the_querysets_rows_converted_and_builds_it_once():
    programs = [ProgramFactory() for _ in range(3)]
    frameworks = list(IndicatorFramework.objects.filter(program__in=programs))
    assert frameworks, "every programme has its default framework"
    build = Counting(
        lambda ids: IndicatorFramework.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "grade_bands")
    )
    read = ForIds(build)
    for ids in ([f.pk for f in frameworks], [frameworks[0].pk], [f.pk for f in frameworks[1:]] + [10**9]):
        expected = list(IndicatorFramework.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "grade_bands"))
        got = read.rows(ids)
        assert got == [tuple(r) for r in expected]
        # The JSON column decoded, as the queryset gives it (not its text).
        assert all(isinstance(bands, list) for _pk, bands in got)
    assert build.calls == 1  # however many ids, one statement's shape


def test_no_ids_no_statement():
    read = ForIds(lambda ids: Program.objects.filter(pk__in=ids).values_list("pk"))
    with CaptureQueriesContext(connection) as ctx:
        assert read.rows([]) == []
    assert not ctx.captured_queries


def test_one_statement_of_one_shape_whatever_the_number_of_ids():
    programs = [ProgramFactory() for _ in range(4)]
    read = ForIds(lambda ids: Program.objects.filter(pk__in=ids).order_by("pk").values_list("code"))
    with CaptureQueriesContext(connection) as ctx:
        assert read.rows([p.pk for p in programs[:1]]) == [(programs[0].code,)]
        assert read.rows([p.pk for p in programs]) == [(p.code,) for p in programs]
    # As run, the array's values written in (the statement is the same but for them).
    shapes = {re.sub(r"ANY\('\{[0-9,]*\}'::\w+\[\]\)", "ANY(…)", q["sql"]) for q in ctx.captured_queries}
    assert len(shapes) == 1
    assert "= ANY(…)" in shapes.pop()


def test_a_union_with_values_is_read_as_the_queryset_reads_it():
    programs = [ProgramFactory() for _ in range(2)]

    def build(ids: list[int]) -> Any:
        names = Program.objects.filter(pk__in=ids).values_list("pk", Value("name", output_field=CharField()), "name")
        codes = Program.objects.filter(pk__in=ids).values_list("pk", Value("code", output_field=CharField()), "code")
        return names.union(codes, all=True).order_by("pk", "name")

    ids = [p.pk for p in programs]
    assert ForIds(build).rows(ids) == [tuple(r) for r in build(ids)]


def test_a_statement_is_built_once_per_key_and_again_for_another():
    national = OrganizationFactory(name="全国", name_en="National")
    first, second = OrganizationFactory(parent=national), OrganizationFactory(parent=national)
    build = Counting(
        lambda prefix: Organization.objects.filter(path__startswith=prefix).order_by("pk").values_list("pk")
    )
    read = Statement(build)
    for _ in range(3):
        assert read.rows(first.path) == [(first.pk,)]
    assert read.rows(national.path) == [(national.pk,), (first.pk,), (second.pk,)]
    assert build.calls == 2
    # A key stands for the arguments: the caller vouches that equal keys build equal querysets.
    assert read.rows(second.path, key="second") == [(second.pk,)]
    assert read.rows(first.path, key="second") == [(second.pk,)]
    assert build.calls == 3


def test_a_filter_nothing_matches_gives_no_rows_and_no_statement():
    read = Statement(lambda: Program.objects.filter(pk__in=[]).values_list("pk", Value(1, output_field=IntegerField())))
    with CaptureQueriesContext(connection) as ctx:
        assert read.rows() == []
        assert read.rows() == []
    assert not ctx.captured_queries


def test_the_store_is_bounded():
    program = ProgramFactory()
    build = Counting(lambda pk: Program.objects.filter(pk=pk).values_list("code"))
    read = Statement(build)
    read.MAX_COMPILED = 3
    for n in range(10):
        assert read.rows(program.pk, key=n) == [(program.code,)]
    assert len(read._compiled) <= 3
    assert build.calls == 10
