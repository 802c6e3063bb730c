"""API: the caller's notifications (their inbox). Only one's own: another user's id is a 404, as if it did not
exist."""

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.models import Notification
from accounts.selectors import notifications_of
from core.api.caller import user_of
from core.api.filters import FilterSet


class NotificationFilter(FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="true: only the unread; false: only the read."
    )

    class Meta:
        model = Notification
        fields = ["unread"]


class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.CharField(read_only=True, help_text="In the reader's language.")
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "params", "link", "created_at", "read_at", "unread"]
        read_only_fields = fields

    def get_unread(self, obj: Notification) -> bool:
        return obj.read_at is None


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's notifications, the newest first; `?unread=true` for those not read yet. The text is written in
    the caller's language (`kind` and `params` are there for a client that writes its own)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator calls without a user
            return Notification.objects.none()
        return notifications_of(user_of(self.request))

    @extend_schema(request=None, responses={200: NotificationSerializer}, tags=["notifications"])
    @action(detail=True, methods=["post"], url_path="read", filterset_class=None)
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark the notification read (one already read stays as it was)."""
        notification = services.notification_read(notification=self.get_object())
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(
                inline_serializer("NotificationsReadAll", {"marked": serializers.IntegerField(min_value=0)}),
                description="How many were unread and are read now.",
            )
        },
        tags=["notifications"],
    )
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None, pagination_class=None)
    def read_all(self, request: Request) -> Response:
        """Mark every unread notification of the caller read."""
        return Response({"marked": services.notifications_read_all(user=user_of(request))})
