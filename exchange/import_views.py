"""Pages of spreadsheet imports: choose a kind, download its template, upload (the dry run's table of rows and
errors), commit; and the user's past imports. Each page calls the same services as the API."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from core.errors import DomainError, NotFound, PermissionDenied
from core.forms import BootstrapFormMixin, apply_domain_error

from . import import_policy, imports
from .models import ImportKind, ImportStatus


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


class ImportForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What to import"))
    file = forms.FileField(
        label=gettext_lazy("File"), help_text=gettext_lazy("XLSX or CSV (UTF-8) with the template's headers.")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = import_policy.importable_kinds(user)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            (value, label) for value, label in ImportKind.choices if value in kinds
        ]


def _allowed_or_403(user: User) -> None:
    if not import_policy.may_import_something(user):
        raise DjangoPermissionDenied(_("Your roles do not allow importing anything."))


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """Choose a kind, get its template, upload a file (it is checked, never imported at once); past imports."""
    user = _user(request)
    _allowed_or_403(user)
    form = ImportForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            record = imports.import_upload(
                by=user, upload=form.cleaned_data["file"], kind=form.cleaned_data["kind"], dry_run=True
            )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("exchange:import_detail", pk=record.pk)
    return render(
        request,
        "exchange/import_list.html",
        {"form": form, "imports": imports.imports_of(user)[:100], "kinds": import_policy.importable_kinds(user)},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: what each row does (or did) and every error, with the Commit button while it can be."""
    record = get_object_or_404(imports.imports_of(_user(request)), pk=pk)
    errors_by_row: dict[int, list[dict[str, Any]]] = {}
    for error in record.errors:
        errors_by_row.setdefault(error["row"], []).append(error)
    rows = [{**row, "errors": errors_by_row.get(row["row"], [])} for row in record.outcome]
    return render(
        request,
        "exchange/import_detail.html",
        {
            "record": record,
            "rows": rows,
            "counts": {key: record.rows.get(key, 0) for key in ("total", *imports.ACTIONS)},
            "committable": record.status in (ImportStatus.CHECKED, ImportStatus.FAILED),
        },
    )


@login_required
@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(imports.imports_of(_user(request)), pk=pk)
    try:
        record = imports.import_commit(by=_user(request), record=record)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if record.status == ImportStatus.COMMITTED:
            messages.success(request, _("Imported: %(count)s rows.") % {"count": record.rows.get("total", 0)})
        else:
            messages.error(request, _("Nothing was imported: some rows were refused. See the errors below."))
    return redirect("exchange:import_detail", pk=record.pk)


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    user = _user(request)
    if kind not in ImportKind.values:
        raise Http404
    if not import_policy.may_import(user, kind):
        raise DjangoPermissionDenied(_("Your roles do not allow importing this kind of record."))
    response = HttpResponse(
        imports.template_xlsx(user, kind),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{imports.template_filename(kind)}"'
    return response
