"""`/api/v1/webhooks/`: the caller's webhooks, their delivery log, a new secret. exchange/webhooks.py says what
is sent, when and to whom.

A webhook is its owner's alone: anyone else (a national coordinator too) gets 404 for it. Its secret is shown
once, in the answer to the POST that creates it (and to `rotate-secret/`); it is never read back."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.caller import CallerMixin, user_of
from core.api.fields import NamedChoiceField
from core.api.permissions import PolicyPermission
from core.api.serializers import StrictSerializerMixin
from exchange import netguard, policy, webhooks
from exchange.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook: where events go, which ones, and whether it is active and whether its last delivery failed
    for good (`is_failing`, cleared by the next delivery that succeeds)."""

    events = serializers.ListField(child=NamedChoiceField(WebhookEvent, enum_name="WebhookEventEnum"))

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "description", "is_active", "is_failing", "created_at"]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    """A webhook as created (or given a new secret): with its secret, shown this once. Verify each delivery's
    `X-Duikou-Signature: sha256=<hex>` as the HMAC-SHA256 of the request body's bytes with this secret."""

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """Where to send which events. The URL must be http or https, and lead to a public address (checked again at
    each delivery on the address its name resolves to then)."""

    # Text, not a URL field: which URLs are taken (http or https, a host, no credentials, a public address) is
    # checked below, each refusal with its own code.
    url = serializers.CharField(max_length=500, help_text="An http or https URL at a public address.")
    events = serializers.ListField(
        child=NamedChoiceField(WebhookEvent, enum_name="WebhookEventEnum"),
        min_length=1,
        max_length=len(WebhookEvent.values),
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_url(self, value: str) -> str:
        # Here as well as in the service, so that a refused address is listed with the other fields' problems.
        problems = netguard.check_url(value)
        if problems:
            raise serializers.ValidationError([serializers.ErrorDetail(str(p.message), code=p.code) for p in problems])
        return value


class WebhookUpdateSerializer(WebhookWriteSerializer):
    """What a PATCH may change; `is_active: false` pauses the webhook (nothing is prepared for it meanwhile)."""

    is_active = serializers.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class WebhookAttemptSerializer(serializers.ModelSerializer):
    """One try: the receiver's status code (null when no answer came), how long it took, why it failed."""

    class Meta:
        model = WebhookAttempt
        fields = ["number", "at", "status_code", "duration_ms", "error"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event sent to the webhook, with every attempt. `id` is the `X-Duikou-Delivery` header and the body's
    `id`; `payload` the body sent."""

    event = NamedChoiceField(WebhookEvent, enum_name="WebhookEventEnum")
    status = NamedChoiceField(DeliveryStatus, enum_name="WebhookDeliveryStatusEnum")
    status_code = serializers.SerializerMethodField(help_text="The last attempt's status code, if any answer came.")
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "status_code",
            "created_at",
            "delivered_at",
            "payload",
            "attempt_log",
        ]
        read_only_fields = fields

    def get_status_code(self, obj: WebhookDelivery) -> int | None:
        log = list(obj.attempt_log.all())
        return log[-1].status_code if log else None


class WebhookViewSet(
    CallerMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's webhooks (others' answer 404). National coordinators register them for everything,
    assisting and recipient officers for their organization's scope; each receives only events on objects its
    owner may see when the event is delivered."""

    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = dict.fromkeys(["create", "partial_update", "destroy", "rotate_secret"], policy.may_manage_webhooks)
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Webhook]:
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return Webhook.objects.filter(owner=user_of(self.request)).order_by("-created_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return WebhookWriteSerializer
        if self.action == "partial_update":
            return WebhookUpdateSerializer
        return WebhookSerializer

    @extend_schema(request=WebhookWriteSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Register a webhook. The answer carries its `secret`, shown this once."""
        body = WebhookWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        webhook = webhooks.webhook_create(by=user_of(request), **body.validated_data)
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookUpdateSerializer, responses={200: WebhookSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        webhook = self.get_object()
        body = WebhookUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        webhook = webhooks.webhook_update(by=user_of(request), webhook=webhook, **body.validated_data)
        return Response(WebhookSerializer(webhook).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete the webhook and its delivery log (the history keeps that it existed)."""
        webhooks.webhook_delete(by=user_of(request), webhook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: WebhookCreatedSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """A new secret, shown this once; attempts from now on are signed with it."""
        webhook = webhooks.webhook_rotate_secret(by=user_of(request), webhook=self.get_object())
        return Response(WebhookCreatedSerializer(webhook).data)


@extend_schema(parameters=[OpenApiParameter("webhook_pk", int, OpenApiParameter.PATH, description="The webhook.")])
class DeliveryViewSet(CallerMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The deliveries of one of the caller's webhooks, newest first, each with its attempts (status code,
    number, duration, error). Another's webhook answers 404."""

    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        webhook = Webhook.objects.filter(owner=user_of(self.request), pk=self.kwargs["webhook_pk"]).first()
        if webhook is None:
            raise NotFound(_("No such webhook."))
        return webhook.deliveries.prefetch_related("attempt_log").order_by("-created_at", "-id")
