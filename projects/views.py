"""Project pages: the list, the project with its timeline and the actions the user may take, the forms
that record progress, inspections, rectifications and documents, and each user's tasks."""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.forms import RegionPicker
from accounts.models import User
from core import uploads as kept_uploads
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, Problem
from core.forms import add_more_problems, apply_domain_error
from core.list_filters import ListFilters
from core.selectors import timeline
from core.templatetags.dates import date as date_filter
from pairings.models import PairingStatus, Program
from pairings.selectors import pairings_visible_to

from . import duplicates, figures, forms, keyset, policy, selectors, services
from .api.filters import ProjectFilter
from .duplicate_views import warning_before_saving
from .models import Category, Document, Inspection, Milestone, ProgressReport, Rectification, Sector, State

# The sortable columns, each by the field (or the `budget` annotation) it sorts by; ties go newest first (by id).
# Empty values (budget, planned start) go last both ways (projects/keyset.py).
SORTS: dict[str, str] = {
    "code": "code",
    "title": "title",
    "state": "state",
    # The column shows the project's budget (approved where there is one): sort by what it shows.
    "budget": "budget",
    "start": "planned_start",
    "created": "created_at",
}
PROJECTS_PER_PAGE = 50


def _sort_terms(name: str, descending: bool) -> tuple[keyset.Term, ...]:
    """The list's order by the column NAME, as keys for paging by cursor."""
    if name == "budget":
        first = replace(keyset.term_of("budget_requested", descending), name="budget")
    else:
        first = keyset.term_of(SORTS[name], descending)
    return first, keyset.term_of("id", True)


@dataclass
class KeysetPage:
    """One page of the list read by key: its rows, the total and the links to the neighbouring pages and the
    ends (None where there is none)."""

    rows: list[Any]
    total: int
    next: str | None
    previous: str | None
    first: str | None
    last: str | None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def object_list(self) -> list[Any]:  # as a paginator's page names its rows
        return self.rows

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next or self.previous)


def _with_cursor(request: HttpRequest, cursor: str | None) -> str:
    """This list's URL (its filters and sort kept) at CURSOR; None: the first page."""
    params = request.GET.copy()
    params.pop("cursor", None)
    params.pop("page", None)  # pages by number are gone; an old link's number means nothing here
    if cursor is not None:
        params["cursor"] = cursor
    return f"?{params.urlencode()}" if params else "?"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _handle(
    form: Any,
    action: Callable[[], Any],
    fields: dict[str, str] | None = None,
    passthrough: tuple[type[DomainError], ...] = (),
) -> Any | None:
    """Run a service; its refusals go on the form. A domain 404/403 becomes the page's 404/403.
    FIELDS renames the service's field names to the form's (the upload's `file` is the form's `photo`);
    PASSTHROUGH errors are left to the caller."""
    try:
        return action()
    except passthrough:
        raise
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        if fields:
            exc.problems = [replace(p, field=fields.get(p.field or "", p.field)) for p in exc.problems]
        apply_domain_error(form, exc)
        return None


def _accepted(form: Any) -> dict[str, Any]:
    """The values a refused form did accept, without the empty ones: what the service's checks can still read."""
    return {k: v for k, v in form.cleaned_data.items() if k not in form.errors and v not in (None, "")}


def _project_or_404(request: HttpRequest, pk: int):  # type: ignore[no-untyped-def]
    return get_object_or_404(selectors.project_list_rows(_user(request)), pk=pk)


def programme_choices(any_label: str) -> list[tuple[str, str]]:
    """The programmes as a filter's choices (by code, as `program` takes them), after the "any" choice."""
    return [("", any_label), *((p.code, str(p)) for p in Program.objects.order_by("start_year"))]


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """The projects in the user's scope, filtered as the API filters them (ProjectFilter) and sorted by a column."""
    filters = ListFilters(
        request,
        ProjectFilter,
        selectors.project_list_rows(_user(request)),
        shown={
            "search": _("Code, title or place"),
            "program": _("Programme"),
            "state": _("State"),
            "category": _("Category"),
            "sector": _("Sector"),
            "region": _("Region"),
            "year": _("Year"),
        },
        choices={
            "program": programme_choices(_("All programmes")),
            "state": [("", _("Any state")), *State.choices],
            "category": [("", _("Any category")), *Category.choices],
            "sector": [("", _("Any sector")), *Sector.choices],
        },
        widgets={"region": RegionPicker()},
    )
    # An unknown sort falls back to the default order: it changes how the rows are shown, never which.
    sort = request.GET.get("sort", "-created")
    name = sort.lstrip("-") if sort.lstrip("-") in SORTS else "created"
    terms = _sort_terms(name, sort.startswith("-"))
    user = _user(request)
    rows = filters.qs.annotate(budget=figures.BUDGET)
    # Pages by key (projects/keyset.py): the last page costs what the first costs. A cursor the list did not write
    # (an edited link, one of another sort) shows the first page and says so, rather than refusing the list.
    cursor, cursor_problem = keyset.Cursor(), None
    if "cursor" in request.GET and not filters.errors:
        try:
            cursor = keyset.decode(request.GET["cursor"], terms)
        except keyset.BadCursor:
            cursor_problem = keyset.page_message()
    seek = keyset.seek(terms, cursor)
    read = selectors.list_rows(
        (rows if seek is None else rows.filter(seek)).order_by(*keyset.order_by(terms, reverse=cursor.before))[
            : PROJECTS_PER_PAGE + 1
        ]
    )
    window = keyset.window(
        terms, cursor, read, [tuple(getattr(p, t.name) for t in terms) for p in read], PROJECTS_PER_PAGE
    )
    # The total is exact: the scope's from its figures when nothing narrows the list, else counted.
    if filters.errors:
        total = 0
    elif any(value not in (None, "", []) for value in filters.form.cleaned_data.values()):
        total = filters.qs.count()
    else:
        total = figures.scope_stage_counts(pairings_visible_to(user)).total
    page = KeysetPage(
        rows=window.rows,
        total=total,
        next=None if window.next is None else _with_cursor(request, window.next),
        previous=None if window.previous is None else _with_cursor(request, window.previous),
        first=None if window.previous is None else _with_cursor(request, None),
        last=None if window.next is None else _with_cursor(request, keyset.LAST),
    )
    return render(
        request,
        "projects/project_list.html",
        {
            "page": page,
            "filters": filters,
            "sort": sort,
            "sort_kept": {"sort": sort},
            "cursor_problem": cursor_problem,
            "can_create": policy.may_create_project(user),
            "can_see_duplicates": policy.may_see_duplicates(user),
        },
        status=filters.status,
    )


#: How many progress reports the project page shows (the newest).
REPORTS_SHOWN = 20


#: Whether a project has rectifications, documents and milestones: built once (annotating resolves a copy).
_SECTIONS = {
    "has_rectifications": Exists(Rectification.objects.filter(project=OuterRef("pk"))),
    "has_documents": Exists(Document.objects.filter(project=OuterRef("pk"))),
    "has_milestones": Exists(Milestone.objects.filter(project=OuterRef("pk"))),
}


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    # Whether it has rectifications, documents and milestones, asked with the project: an empty section costs no
    # query of its own (most projects have none of some).
    project = get_object_or_404(selectors.project_list_rows(user).annotate(**_SECTIONS), pk=pk)
    sections: Any = project  # the annotations above
    actions = policy.allowed_actions(user, project)
    # The rows show neither who reported nor who reviewed: nothing joined (the same for inspections, documents).
    # Read by the project's id rather than through its related manager, which costs more to build a query and ties
    # every row back to the project (the rows never ask for it).
    reports = list(ProgressReport.objects.filter(project_id=project.pk).order_by("-period_end", "-id")[:REPORTS_SHOWN])
    latest = selectors.latest_progress(project, newest=reports, limit=REPORTS_SHOWN)
    rectifications = (
        list(
            project.rectifications.select_related("evidence", "inspection", "reported_by", "sent_back_by")
            .prefetch_related("photos")
            .order_by("closed_on", "deadline", "id")[:50]
        )
        if sections.has_rectifications
        else []
    )
    for r in rectifications:
        # The steps the user may take on each, as the policy's table says (the services enforce the same).
        r.steps = [  # type: ignore[attr-defined]
            (name, policy.RECTIFICATION_ACTIONS[name].label, rectification_step_url(project.pk, r.pk, name))
            for name in policy.rectification_actions(user, r)
        ]
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            # Each action with what would stop it now, so a button that cannot succeed does not look like one.
            "actions": [(a, services.ACTIONS[a].label, services.blockers(project, a)) for a in actions],
            "money": figures.project_money(project, latest),
            "latest": latest,
            "reports": reports,
            "inspections": list(Inspection.objects.filter(project_id=project.pk)[:20]),
            "rectifications": rectifications,
            "documents": project.documents.all()[:50] if sections.has_documents else [],
            "milestones": project.milestones.all() if sections.has_milestones else [],
            "history": timeline(project, 50),
            # What the user may do here, each as the policy decides it (the services enforce the same).
            "editable": bool(services.EDITABLE[State(project.state)])
            and bool(policy.may_update_project(user, project)),
            "can_report": policy.may_report_progress(user, project),
            "can_inspect": policy.may_record_inspection(user, project),
            "reviewable": {r.pk for r in reports if policy.may_review_report(user, r)},
            "can_upload": policy.may_upload_document(user, project),
            "can_record_flow": policy.may_record_flow(user, project),
            "today": timezone.localdate(),
        },
    )


@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    pairings = pairings_visible_to(user).filter(status=PairingStatus.ACTIVE).order_by("program__start_year")
    initial: dict[str, Any] = {}
    wanted = request.GET.get("pairing", "")
    if wanted.isascii() and wanted.isdigit() and len(wanted) <= 18:  # a prefill: anything else is ignored
        initial["pairing"] = pairings.filter(pk=wanted).first()
    form = forms.ProjectForm(request.POST or None, pairings=pairings, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        pairing, title = d.pop("pairing"), d.pop("title")
        d = {k: v for k, v in d.items() if v not in (None, "")}
        # Projects that may be the same undertaking are shown before it is saved, once (a warning, not a block).
        similar = warning_before_saving(request, duplicates.subject_from({"title": title, **d}))
        if similar is not None:
            return render(request, "projects/form.html", {"form": form, "title": _("New project"), "similar": similar})
        project = _handle(form, lambda: services.project_create(by=user, pairing=pairing, title=title, **d))
        if project is not None:
            messages.success(
                request, _("Draft %(code)s created. Submit it when it is complete.") % {"code": project.code}
            )
            return redirect("projects:project_detail", pk=project.pk)
    elif request.method == "POST" and form.cleaned_data.get("pairing") is not None:
        values = {k: v for k, v in _accepted(form).items() if k != "pairing"}
        add_more_problems(form, services.field_problems(values, form.cleaned_data["pairing"]))
    return render(request, "projects/form.html", {"form": form, "title": _("New project")})


@login_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project_or_404(request, pk)
    editable = services.EDITABLE[State(project.state)]
    if not editable:
        messages.error(
            request, _("Nothing can be edited while the project is %(state)s.") % {"state": project.get_state_display()}
        )
        return redirect("projects:project_detail", pk=pk)
    initial = {name: getattr(project, name) for name in editable}
    if "location" in initial and project.location:
        initial["location"] = project.location.code
    form = forms.ProjectForm(request.POST or None, initial=initial, editable=editable)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k in editable}
        # Warned again only when what the check compares changes (a new description does not ask again).
        compared = {k for k in duplicates.COMPARED if k in values and values[k] != getattr(project, k)}
        similar = warning_before_saving(request, duplicates.subject_of(project, **values)) if compared else None
        if similar is not None:
            context = {"form": form, "project": project, "title": _("Edit project"), "similar": similar}
            return render(request, "projects/form.html", context)
        done = _handle(form, lambda: services.project_update(by=_user(request), project=project, **values))
        if done is not None:
            messages.success(request, _("Project saved."))
            return redirect("projects:project_detail", pk=pk)
    elif request.method == "POST":
        accepted = {k: v for k, v in _accepted(form).items() if k in editable}
        dates = {f: getattr(project, f) for f in ("planned_start", "planned_end") if f in editable}
        add_more_problems(form, services.field_problems(dates | accepted, project.pairing))
    return render(request, "projects/form.html", {"form": form, "project": project, "title": _("Edit project")})


ACTION_FORMS: dict[str, type] = {"approve": forms.ApproveForm, "start": forms.StartForm, "complete": forms.CompleteForm}


@login_required
def project_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm an action (GET) and take it (POST). A refusal is shown on the form; a state that moved on
    under the user is said plainly and the page reloaded."""
    if action not in services.ACTIONS:
        raise Http404
    project = _project_or_404(request, pk)
    spec = services.ACTIONS[action]
    form_class = ACTION_FORMS.get(action, forms.TransitionForm)
    initial = {"actual_start": timezone.localdate(), "actual_end": timezone.localdate()}
    form = form_class(request.POST or None, initial=initial, project=project)
    if spec.needs_comment:
        form.fields["comment"].required = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("confirm_amount", None)  # the form's own question, not the service's
        kwargs: dict[str, Any] = {"comment": data.pop("comment", "")}
        kwargs.update({k: v for k, v in data.items() if v not in (None, "")})
        if action == "evaluate":
            messages.error(request, _("Projects are marked evaluated by an evaluation run with their final score."))
            return redirect("projects:project_detail", pk=pk)
        try:
            done = _handle(
                form,
                lambda: services.TRANSITIONS[action](project=project, by=_user(request), **kwargs),
                {"reason": "comment"},  # the comment is the reason an approval goes above the request
                passthrough=(Conflict,),
            )
        except Conflict as exc:  # the state moved on under the user
            messages.warning(request, exc.message)
            return redirect("projects:project_detail", pk=pk)
        if done is not None:
            messages.success(
                request,
                _("%(action)s: done. The project is now %(state)s.")
                % {"action": spec.label, "state": done.get_state_display()},
            )
            return redirect("projects:project_detail", pk=pk)
    blockers = services.blockers(project, action)
    return render(
        request,
        "projects/act.html",
        {"project": project, "form": form, "spec": spec, "blockers": blockers, "action": action},
    )


def _record_view(  # type: ignore[no-untyped-def]
    form_class: type,
    title: str,
    run: Callable[..., Any],
    success: str,
    files: bool = False,
    fields: dict[str, str] | None = None,
):
    declared = cast("type[django_forms.Form]", form_class).base_fields
    file_fields = [name for name, f in declared.items() if isinstance(f, django_forms.FileField)]

    @login_required
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        project = _project_or_404(request, pk)
        posted = request.method == "POST"
        # A file attached to an earlier, refused submit comes back unless another was chosen (core/uploads.py).
        uploads = kept_uploads.restore(request, file_fields) if posted and file_fields else request.FILES
        form = form_class(request.POST or None, uploads or None, initial={"date": timezone.localdate()})
        if posted and form.is_valid():
            done = _handle(form, lambda: run(_user(request), project, form.cleaned_data), fields)
            if done is not None:
                if file_fields:
                    kept_uploads.discard(request)
                messages.success(request, success)
                return redirect("projects:project_detail", pk=pk)
        if posted and file_fields and uploads:
            # A file the form itself refused (a wrong type) is not kept: it is the mistake to fix.
            accepted = uploads.copy()
            for name in form.errors:
                accepted.pop(name, None)
            form.kept_uploads = kept_uploads.keep(request, accepted)
        return render(request, "projects/form.html", {"form": form, "project": project, "title": title, "files": files})

    return view


def _report(by: User, project: Any, d: dict) -> Any:
    from django.db import transaction

    with transaction.atomic():
        report = services.progress_report_submit(
            by=by,
            project=project,
            period_end=d["period_end"],
            physical_progress=d["physical_progress"],
            spend_to_date=d["spend_to_date"],
            narrative=d["narrative"],
        )
        if d.get("photo"):
            services.document_upload(
                by=by,
                project=project,
                upload=d["photo"],
                kind="photo",
                title=_("Progress photo %(date)s") % {"date": d["period_end"]},
                progress_report=report,
            )
    return report


progress_create = _record_view(
    forms.ProgressReportForm,
    _("Report progress"),
    _report,
    _("Progress reported."),
    files=True,
    fields={"file": "photo"},
)
document_create = _record_view(
    forms.DocumentForm,
    _("Attach a document"),
    lambda by, p, d: services.document_upload(by=by, project=p, upload=d["file"], kind=d["kind"], title=d["title"]),
    _("Document attached."),
    files=True,
)


@login_required
def report_review(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    project = _project_or_404(request, pk)
    report = get_object_or_404(ProgressReport, pk=report_pk, project=project)
    form = forms.ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accept = request.POST.get("decision") == "accept"
        done = _handle(
            form,
            lambda: services.progress_report_review(
                by=_user(request), report=report, accept=accept, comment=form.cleaned_data["comment"]
            ),
        )
        if done is not None:
            messages.success(request, _("Report reviewed."))
            return redirect("projects:project_detail", pk=pk)
    return render(request, "projects/review.html", {"form": form, "project": project, "report": report})


def _rectification_rows(formset: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """The rectifications the formset's filled rows order, and each one's row (empty rows order nothing)."""
    items, rows = [], []
    for i, row in enumerate(formset.forms):
        if row.is_empty:
            continue
        data = getattr(row, "cleaned_data", {}) or {}
        items.append({"finding": data.get("finding", ""), "deadline": data.get("deadline")})
        rows.append(i)
    return items, rows


def _place_problems(form: Any, formset: Any, rows: list[int], problems: list[Problem]) -> None:
    """Each problem on its field: `rectifications.<n>.<field>` on the row it came from, the rest on the form
    (a field that already shows its own error keeps only that)."""
    for p in problems:
        parts = (p.field or "").split(".")
        if len(parts) == 3 and parts[0] == "rectifications" and parts[1].isdigit() and int(parts[1]) < len(rows):
            row = formset.forms[rows[int(parts[1])]]
            if parts[2] not in row.errors:
                row.add_error(parts[2] if parts[2] in row.fields else None, str(p.message))
        elif p.field not in form.errors:
            form.add_error(p.field if p.field in form.fields else None, str(p.message))


@login_required
def inspection_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an inspection with the rectifications it orders, as many as needed, a row each ("Add a row" keeps
    what was typed and adds an empty row). A refused submit keeps every row and shows every mistake at once: the
    form's, each row's and the service's."""
    project = _project_or_404(request, pk)
    user = _user(request)
    prefix = "rectifications"
    if request.method == "POST" and "add_row" in request.POST:
        # Not a submit: the same page with what was typed and one more row, nothing checked yet.
        posted = forms.RectificationItemFormSet(request.POST, prefix=prefix)
        kept = [
            {name: row.data.get(row.add_prefix(name), "") for name in row.fields}
            for row in posted.forms
            if not row.is_empty
        ]
        form = forms.InspectionForm(initial={k: request.POST.get(k, "") for k in forms.InspectionForm.base_fields})
        formset = forms.RectificationItemFormSet(initial=kept, prefix=prefix)
    elif request.method == "POST":
        form = forms.InspectionForm(request.POST)
        formset = forms.RectificationItemFormSet(request.POST, prefix=prefix)
        form_ok, rows_ok = form.is_valid(), formset.is_valid()
        items, rows = _rectification_rows(formset)
        if form_ok and rows_ok:
            d = form.cleaned_data
            try:
                services.inspection_record(
                    by=user,
                    project=project,
                    date=d["date"],
                    kind=d["kind"],
                    result=d["result"],
                    findings=d["findings"],
                    rectifications=items,
                )
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(exc.message) from exc
            except DomainError as exc:
                _place_problems(form, formset, rows, exc.problems)
            else:
                messages.success(request, _("Inspection recorded."))
                return redirect("projects:project_detail", pk=pk)
        else:
            # Every mistake at once: what the service would say of what the form could read.
            d = _accepted(form)
            readable = [i for i, r in zip(items, rows, strict=True) if not formset.forms[r].errors]
            readable_rows = [r for r in rows if not formset.forms[r].errors]
            _place_problems(
                form,
                formset,
                readable_rows,
                services.inspection_problems(
                    project,
                    date=d.get("date"),
                    kind=d.get("kind"),
                    result=d.get("result"),
                    findings=d.get("findings", ""),
                    rectifications=readable,
                    complete=False,
                ),
            )
    else:
        form = forms.InspectionForm(initial={"date": timezone.localdate()})
        formset = forms.RectificationItemFormSet(prefix=prefix)
    return render(
        request,
        "projects/inspection_form.html",
        {"form": form, "formset": formset, "project": project, "title": _("Record an inspection")},
    )


#: Each step's form on the page (`close` is the supervisor closing one nobody reported, with evidence).
RECTIFICATION_FORMS: dict[str, type[django_forms.Form]] = {
    "report": forms.RectificationReportForm,
    "verify": forms.RectificationVerifyForm,
    "send_back": forms.RectificationSendBackForm,
    "close": forms.RectificationCloseForm,
}
RECTIFICATION_DONE = {
    "report": _("Rectification reported done. The supervisor will verify it."),
    "verify": _("Rectification verified and closed."),
    "send_back": _("Rectification sent back."),
    "close": _("Rectification closed."),
}


def rectification_step_url(project_id: int, rectification_id: int, action: str) -> str:
    if action == "close":
        return reverse("projects:rectification_close", args=[project_id, rectification_id])
    return reverse("projects:rectification_act", args=[project_id, rectification_id, action])


def _run_rectification_step(user: User, project: Any, rect: Rectification, action: str, d: dict) -> Any:
    from django.db import transaction

    if action == "report":
        photos = [d[name] for name in forms.RectificationReportForm.PHOTO_FIELDS if d.get(name)]
        return services.rectification_report(by=user, rectification=rect, text=d["text"], photos=photos)
    if action == "verify":
        return services.rectification_verify(by=user, rectification=rect, note=d["note"])
    if action == "send_back":
        return services.rectification_send_back(by=user, rectification=rect, reason=d["reason"])
    with transaction.atomic():
        evidence = None
        if d.get("evidence"):
            evidence = services.document_upload(
                by=user,
                project=project,
                upload=d["evidence"],
                kind="evidence",
                title=_("Evidence: %(finding)s") % {"finding": rect.finding[:60]},
            )
        return services.rectification_close(by=user, rectification=rect, note=d["note"], evidence=evidence)


@login_required
def rectification_act(request: HttpRequest, pk: int, rect_pk: int, action: str = "close") -> HttpResponse:
    """One step of a rectification (policy.RECTIFICATION_ACTIONS): its form (GET, which says at once why the step
    cannot be taken, if it cannot) and the step (POST: a step the user's roles do not allow is a 403, one the
    rectification has moved past is said on the form). A photo attached to a refused report is kept
    (core/uploads.py)."""
    if action not in policy.RECTIFICATION_ACTIONS:
        raise Http404
    project = _project_or_404(request, pk)
    rect = get_object_or_404(
        Rectification.objects.select_related("reported_by", "sent_back_by").prefetch_related("photos"),
        pk=rect_pk,
        project=project,
    )
    user = _user(request)
    spec = policy.RECTIFICATION_ACTIONS[action]
    decision = policy.may_act_on_rectification(user, rect, action)
    form_class = RECTIFICATION_FORMS[action]
    file_fields = [n for n, f in form_class.base_fields.items() if isinstance(f, django_forms.FileField)]
    posted = request.method == "POST"
    uploads = kept_uploads.restore(request, file_fields) if posted else None
    form = form_class(request.POST or None, uploads or None)
    if posted and form.is_valid():
        fields = {"text": "text", "reason": "reason", "closure_note": "note", "file": "evidence"}
        if action == "report":
            # The service numbers the photos it was given: the filled fields, in order.
            filled = [n for n in forms.RectificationReportForm.PHOTO_FIELDS if form.cleaned_data.get(n)]
            fields |= {f"photos.{i}": name for i, name in enumerate(filled)}
        done = _handle(form, lambda: _run_rectification_step(user, project, rect, action, form.cleaned_data), fields)
        if done is not None:
            if file_fields:
                kept_uploads.discard(request)
            messages.success(request, RECTIFICATION_DONE[action])
            return redirect(reverse("projects:project_detail", args=[pk]) + "#rectifications-table")
    if posted and file_fields and uploads:
        accepted = uploads.copy()
        for name in form.errors:
            accepted.pop(name, None)
        form.kept_uploads = kept_uploads.keep(request, accepted)  # type: ignore[attr-defined]
    return render(
        request,
        "projects/rectification_form.html",
        {
            "form": form,
            "project": project,
            "rect": rect,
            "spec": spec,
            "files": bool(file_fields),
            "refusal": "" if posted or decision else decision.message,
            "title": spec.label if action != "close" else _("Close a rectification"),
        },
    )


def rectification_close(request: HttpRequest, pk: int, rect_pk: int) -> HttpResponse:
    return rectification_act(request, pk, rect_pk, "close")


@login_required
def document_download(request: HttpRequest, pk: int, doc_pk: int) -> FileResponse:
    """Files are served through the project's scope, never from a public URL."""
    project = _project_or_404(request, pk)
    doc = get_object_or_404(Document, pk=doc_pk, project=project)
    return FileResponse(
        doc.file.open("rb"),
        as_attachment=doc.kind != "photo",
        filename=(doc.file.name or "document").rsplit("/", 1)[-1],
        content_type=doc.content_type or "application/octet-stream",
    )


#: How many items of each kind the whole inbox shows (a kind's own page shows all of it, page by page).
TASKS_PER_KIND = 50


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    """One inbox: every kind of work the user's roles have (core.worklist), soonest due first; `?kind=` shows one
    kind whole, page by page. The counts are the home's and the navigation's."""
    from django.core.paginator import Paginator

    from core import worklist

    user = _user(request)
    waiting = worklist.waiting_for_request(request)  # the navigation's count reads the same, counted once
    key = request.GET.get("kind", "")
    kind = worklist.kind_named(user, key) if key else None
    context: dict[str, Any] = {"waiting": waiting, "kind": kind, "today": timezone.localdate(), "page": None}
    if key and kind is None:
        context["rows"] = []
        context["error"] = _("Your roles have no tasks of the kind “%(kind)s”.") % {"kind": key}
        return render(request, "projects/tasks.html", context, status=400)
    if kind is not None:
        page = Paginator(kind.ordered(user), TASKS_PER_KIND).get_page(request.GET.get("page"))
        context.update(page=page, rows=[(kind, kind.row(item)) for item in page])
    else:
        context["rows"] = worklist.inbox(user, per_kind=TASKS_PER_KIND)
        context["truncated"] = any(w.count > TASKS_PER_KIND for w in waiting)
    context["tasks"] = _task_items(context["rows"], context["today"])
    return render(request, "projects/tasks.html", context)


def _task_items(rows: list[Any], today: dt.date) -> list[dict[str, Any]]:
    """The inbox's rows as the page shows them, in plain values: each kind's label and action translated once, not
    on every row, and each due date's badge written here as the template wrote it (`due %(date)s`, the date as
    the `date` filter gives it, red once the date is past)."""
    kinds: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    for kind, row in rows:
        shown = kinds.get(kind.key)
        if shown is None:
            shown = kinds[kind.key] = {
                "key": kind.key,
                "label": str(kind.label),
                "action": str(kind.action),
                "urgent": kind.urgent,
            }
        due = None
        if row.due:
            # A moment is shown in the local time zone, as the template's filter showed it.
            day = (
                timezone.localtime(row.due)
                if isinstance(row.due, dt.datetime) and timezone.is_aware(row.due)
                else row.due
            )
            text = _("due %(date)s") % {"date": date_filter(day, "Y-m-d")}
            try:
                overdue = row.due < today
            except TypeError:  # a moment, not a day: the template's comparison was false
                overdue = False
            due = {"text": text, "overdue": overdue}
        items.append({"kind": shown, "title": row.title, "url": row.url, "detail": row.detail, "due": due})
    return items


@login_required
def project_flow_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Money for a project is a fund flow of its pairing that names the project."""
    from pairings import services as pairing_services
    from pairings.forms import FundFlowForm
    from pairings.models import FlowKind

    project = _project_or_404(request, pk)
    pledges = project.pairing.fund_flows.filter(kind=FlowKind.PLEDGE, commitment__isnull=True)
    form = FundFlowForm(request.POST or None, pledges=pledges, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = _handle(
            form,
            lambda: pairing_services.fund_flow_record(
                by=_user(request),
                pairing=project.pairing,
                kind=d["kind"],
                amount=d["amount"],
                date=d["date"],
                source=d["source"],
                pledge=d["pledge"],
                project_id=project.pk,
                reference=d["reference"],
                note=d["note"],
            ),
        )
        if done is not None:
            messages.success(request, _("Fund flow recorded."))
            return redirect("projects:project_detail", pk=pk)
    return render(request, "projects/form.html", {"form": form, "project": project, "title": _("Record a fund flow")})
