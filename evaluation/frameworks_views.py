"""Indicator framework pages: each programme's current version (older ones linked), a version with its
indicators explained, and the editor with which a national coordinator makes a new version."""

from collections import defaultdict
from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.errors import DomainError, PermissionDenied
from pairings.selectors import programs_visible_to

from . import policy, selectors, services
from .framework_forms import FrameworkEditor
from .measures import MEASURES, PAIRING, PROJECT
from .models import Indicator, IndicatorFramework
from .templatetags.evaluation_tags import curve_words


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


# --- what an indicator means, in words -----------------------------------------------------------------------------


@dataclass
class IndicatorLine:
    indicator: Indicator
    label: str
    measure_label: str
    definition: str
    unit: str
    curve: str


UNIT_LABELS = {
    "ratio": gettext_lazy("ratio"),
    "count": gettext_lazy("count"),
    "rating": gettext_lazy("rating 1–5"),
    "score": gettext_lazy("score 0–100"),
}


def indicator_lines(framework: IndicatorFramework, level: str) -> list[IndicatorLine]:
    lines = []
    for i in selectors.indicators_of(framework, level):
        m = MEASURES.get(i.formula)
        lines.append(
            IndicatorLine(
                indicator=i,
                label=i.label,
                measure_label=str(m.label) if m else i.formula,
                definition=str(m.definition) if m else _("Unknown formula."),
                unit=str(UNIT_LABELS.get(m.unit, m.unit)) if m else "",
                # The same words as the scorecards' explanations.
                curve=curve_words(i),
            )
        )
    return lines


def bands_of(framework: IndicatorFramework) -> list[tuple[float, str]]:
    return [(float(lo), str(g)) for lo, g in sorted(framework.grade_bands or [], key=lambda b: -float(b[0]))]


# --- pages ---------------------------------------------------------------------------------------------------------


@login_required
def framework_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    versions = (
        IndicatorFramework.objects.select_related("program", "created_by")
        .annotate(indicator_count=Count("indicators"))
        .order_by("program__start_year", "program__code", "-version")
    )
    by_program: dict[int, list[IndicatorFramework]] = defaultdict(list)
    for f in versions:
        by_program[f.program_id].append(f)
    rows = [
        {"program": p, "current": by_program[p.pk][0] if by_program[p.pk] else None, "older": by_program[p.pk][1:]}
        for p in programs_visible_to(user).order_by("start_year", "code")
    ]
    return render(
        request,
        "evaluation/frameworks/list.html",
        {"rows": rows, "may_edit": policy.may_revise_framework(user)},
    )


@login_required
def framework_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    framework = get_object_or_404(selectors.frameworks_visible_to(user), pk=pk)
    versions = list(
        IndicatorFramework.objects.filter(program_id=framework.program_id)
        .select_related("created_by")
        .annotate(indicator_count=Count("indicators"))
        .order_by("-version")
    )
    return render(
        request,
        "evaluation/frameworks/detail.html",
        {
            "framework": framework,
            "program": framework.program,
            "levels": [
                (PROJECT, _("Project indicators"), indicator_lines(framework, PROJECT)),
                (PAIRING, _("Pairing indicators"), indicator_lines(framework, PAIRING)),
            ],
            "bands": bands_of(framework),
            "versions": versions,
            "is_current": bool(versions) and versions[0].pk == framework.pk,
            "current": versions[0] if versions else framework,
            "may_edit": policy.may_revise_framework(user),
        },
    )


@login_required
def framework_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A new version, starting from version PK's indicators. National coordinators only (others: 403)."""
    user = _user(request)
    framework = get_object_or_404(selectors.frameworks_visible_to(user), pk=pk)
    decision = policy.may_revise_framework(user, framework.program)
    if not decision:
        raise DjangoPermissionDenied(decision.message)
    current = IndicatorFramework.objects.filter(program_id=framework.program_id).order_by("-version").first()
    assert current is not None  # FRAMEWORK itself is one  # noqa: S101 — an invariant of our own code, not a check of input
    if request.method == "POST" and "add_row" in request.POST:
        data = request.POST.copy()
        total = data.get("indicators-TOTAL_FORMS", "0")
        # The editor's own counter: a tampered one (not ASCII digits, or absurdly long) starts again at one row.
        data["indicators-TOTAL_FORMS"] = str(
            int(total) + 1 if total.isascii() and total.isdigit() and len(total) <= 3 else 1
        )
        editor = FrameworkEditor(
            data, rows=services.framework_rows(framework), bands=framework.grade_bands,
            min_coverage=framework.min_coverage,
        )  # fmt: skip
        return _render_editor(request, framework, current, editor)
    if request.method != "POST":
        editor = FrameworkEditor(
            rows=services.framework_rows(framework), bands=framework.grade_bands, based_on=current.pk,
            min_coverage=framework.min_coverage,
        )  # fmt: skip
        return _render_editor(request, framework, current, editor)

    editor = FrameworkEditor(
        request.POST, rows=services.framework_rows(framework), bands=framework.grade_bands,
        min_coverage=framework.min_coverage,
    )  # fmt: skip
    if editor.is_valid():
        payload = editor.payload()
        based_on = editor.reason.cleaned_data.get("based_on")
        if based_on and based_on != current.pk:
            editor.reason.add_error(
                None,
                _("Version %(version)s was saved while you were editing. Open it, then make your changes again.")
                % {"version": current.version},
            )
        else:
            try:
                new = services.framework_revise(program=framework.program, by=user, **payload)
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(exc.message) from exc
            except DomainError as exc:
                editor.apply(exc)
            else:
                messages.success(
                    request,
                    _("Version %(version)s of the framework is saved; runs from now on use it.")
                    % {"version": new.version},
                )
                return redirect("evaluation:framework_detail", pk=new.pk)
    return _render_editor(request, framework, current, editor)


def _render_editor(
    request: HttpRequest,
    framework: IndicatorFramework,
    current: IndicatorFramework,
    editor: FrameworkEditor,
) -> HttpResponse:
    return render(
        request,
        "evaluation/frameworks/edit.html",
        {
            "framework": framework,
            "program": framework.program,
            "current": current,
            "editor": editor,
            "measures": [
                {
                    "code": m.code,
                    "label": m.label,
                    "level": m.level,
                    "unit_label": UNIT_LABELS.get(m.unit, m.unit),
                    "definition": m.definition,
                }
                for m in MEASURES.values()
            ],
        },
    )
