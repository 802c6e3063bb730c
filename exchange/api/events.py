"""`GET /api/v1/events/?after=<cursor>`: the event feed for systems that poll (exchange.events explains the order)."""

import re
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.caller import user_of
from core.api.fields import by_username
from core.api.pagination import whole_number
from core.history import action_label
from core.models import HistoryEvent
from exchange.events import Cursor, CursorError, events_after

#: A cursor's alphabet: URL-safe base64 without padding (exchange.events.Cursor).
CURSOR_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
#: Like every list: 50 by default, at most 200.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class EventObjectSerializer(serializers.Serializer[HistoryEvent]):
    """The object the event happened to."""

    type = serializers.SerializerMethodField(help_text="`app.model`, e.g. `projects.project`.")
    id = serializers.IntegerField(source="object_id", read_only=True)
    # `label` shadows Field.label in the type stubs only; DRF collects declared fields by name.
    label = serializers.CharField(source="object_repr", read_only=True, help_text="The object as it read then.")  # type: ignore[assignment]

    def get_type(self, obj: HistoryEvent) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class EventSerializer(serializers.ModelSerializer):
    """One history event, as the history endpoints render it, with the object it belongs to."""

    object = EventObjectSerializer(source="*", read_only=True)
    actor = by_username()
    action_label = serializers.SerializerMethodField()

    class Meta:
        model = HistoryEvent
        fields = [
            "id",
            "at",
            "object",
            "action",
            "action_label",
            "from_state",
            "to_state",
            "actor",
            "comment",
            "changes",
        ]
        read_only_fields = fields

    def get_action_label(self, obj: HistoryEvent) -> str:
        return action_label(obj.action)


class EventPageSerializer(serializers.Serializer[Any]):
    next = serializers.CharField(
        allow_null=True,
        help_text="Pass as `after` in the next poll. Null only when nothing was read yet and nothing was given.",
    )
    more = serializers.BooleanField(help_text="Whether more events are ready now (the page is full).")
    results = EventSerializer(many=True)


class EventView(generics.GenericAPIView):
    """The history events of the objects the caller may see, oldest commit first, for systems that poll.

    Keep `next` and pass it back as `after`: each event is handed out exactly once in commit order, even when
    transactions commit out of the order their events were written in. An event of a transaction still running
    is held back, with what follows it, until that transaction ends. (On SQLite, the embedded default, the order
    is the events' ids: writes are one at a time there.)"""

    serializer_class = EventSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        return HistoryEvent.objects.none()

    @extend_schema(
        operation_id="events_list",
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "string", "pattern": CURSOR_PATTERN.pattern},
                description="The `next` of the previous page; left out, the feed starts at the beginning.",
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description=f"Events per page, {DEFAULT_PAGE_SIZE} by default. Larger than {MAX_PAGE_SIZE} counts as {MAX_PAGE_SIZE}.",
            ),
        ],
        responses={200: EventPageSerializer},
    )
    def get(self, request: Request) -> Response:
        after = self._after(request)
        size = whole_number(request, "page_size", min_value=1)
        limit = DEFAULT_PAGE_SIZE if size is None else min(size, MAX_PAGE_SIZE)
        events = events_after(user_of(request), after, limit)
        last = Cursor.of(events[-1]) if events else after
        return Response(
            {
                "next": last.encode() if last is not None else None,
                "more": len(events) == limit,
                "results": EventSerializer(events, many=True, context=self.get_serializer_context()).data,
            }
        )

    @staticmethod
    def _after(request: Request) -> Cursor | None:
        raw = request.query_params.get("after")
        if raw is None:
            return None
        # Two refusals: not even the cursors' alphabet (`invalid`, what the schema's pattern says too), or well
        # formed but not a cursor this feed handed out (`unknown_cursor`, which no schema can say).
        code = "invalid"
        if CURSOR_PATTERN.fullmatch(raw):
            try:
                return Cursor.decode(raw)
            except CursorError:
                code = "unknown_cursor"
        message = _("Not a cursor of this feed: pass back the `next` of a previous page.")
        raise serializers.ValidationError({"after": [serializers.ErrorDetail(message, code=code)]})
