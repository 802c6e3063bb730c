"""Pages of webhooks: the user's webhooks with a form to add one, and one webhook with its recent deliveries and
their attempts. The secret is shown once, on the page the new webhook (or a new secret) leads to."""

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from core.errors import DomainError
from core.forms import BootstrapFormMixin

from . import policy, webhooks
from .models import Webhook, WebhookEvent

#: The session key under which a secret waits to be shown once.
SHOW_ONCE = "exchange.webhook_secret"
RECENT_DELIVERIES = 50


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _allowed(request: HttpRequest) -> User:
    user = _user(request)
    decision = policy.may_manage_webhooks(user)
    if not decision:
        raise PermissionDenied(decision.message)
    return user


class WebhookForm(BootstrapFormMixin, forms.Form):
    url = forms.CharField(
        label=gettext_lazy("URL"),
        max_length=500,
        help_text=gettext_lazy("http or https, at a public address. Each event is POSTed to it as JSON."),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)


def _put(form: forms.Form, error: DomainError) -> None:
    """Each problem on its field: `events.1` belongs to `events`."""
    for p in error.problems:
        field = (p.field or "").split(".", 1)[0]
        form.add_error(field if field in form.fields else None, str(p.message))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    """The user's webhooks, and the form that adds one."""
    user = _allowed(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook = webhooks.webhook_create(
                by=user,
                url=form.cleaned_data["url"],
                events=list(form.cleaned_data["events"]),
                description=form.cleaned_data["description"],
            )
        except DomainError as exc:
            _put(form, exc)
        else:
            request.session[SHOW_ONCE] = {"id": webhook.pk, "secret": webhook.secret}
            messages.success(request, _("Webhook added."))
            return redirect("exchange:webhook_detail", pk=webhook.pk)
    hooks = Webhook.objects.filter(owner=user)
    return render(request, "exchange/webhook_list.html", {"webhooks": hooks, "form": form})


@login_required
@require_http_methods(["GET"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One webhook: its events, its secret once after it was made, its recent deliveries with every attempt."""
    user = _allowed(request)
    webhook = get_object_or_404(Webhook, pk=pk, owner=user)
    waiting = request.session.get(SHOW_ONCE)
    secret = None
    if isinstance(waiting, dict) and waiting.get("id") == webhook.pk:
        secret = waiting.get("secret")
        del request.session[SHOW_ONCE]
    deliveries = webhook.deliveries.prefetch_related("attempt_log").order_by("-created_at")[:RECENT_DELIVERIES]
    labels = dict(WebhookEvent.choices)
    return render(
        request,
        "exchange/webhook_detail.html",
        {
            "webhook": webhook,
            "secret": secret,
            "deliveries": deliveries,
            "event_labels": [labels.get(e, e) for e in webhook.events],
        },
    )


@login_required
@require_POST
def webhook_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """Pause, resume, give a new secret, delete."""
    user = _allowed(request)
    webhook = get_object_or_404(Webhook, pk=pk, owner=user)
    try:
        if what == "pause":
            webhooks.webhook_update(by=user, webhook=webhook, is_active=False)
            messages.success(request, _("Webhook paused."))
        elif what == "resume":
            webhooks.webhook_update(by=user, webhook=webhook, is_active=True)
            messages.success(request, _("Webhook resumed."))
        elif what == "rotate":
            webhook = webhooks.webhook_rotate_secret(by=user, webhook=webhook)
            request.session[SHOW_ONCE] = {"id": webhook.pk, "secret": webhook.secret}
            messages.success(request, _("The webhook has a new secret."))
        elif what == "delete":
            webhooks.webhook_delete(by=user, webhook=webhook)
            messages.success(request, _("Webhook deleted."))
            return redirect("exchange:webhooks")
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exchange:webhook_detail", pk=pk)
