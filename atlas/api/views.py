"""`GET /api/v1/map/?program=&level=&measure=`: the map's areas as a GeoJSON FeatureCollection."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.caller import user_of
from pairings.selectors import programs_visible_to

from .. import boundaries, selectors
from ..selectors import Area, MapData
from .serializers import MapQuerySerializer, MapSerializer


def _geometry(area: Area) -> dict[str, Any]:
    return {
        "type": "MultiPolygon",
        "coordinates": [[[list(p) for p in ring] for ring in polygon] for polygon in area.feature.polygons],
    }


def _feature(area: Area, data: MapData, request: Request) -> dict[str, Any]:
    stages = area.projects.stages
    return {
        "type": "Feature",
        "id": area.code,
        "geometry": _geometry(area),
        "properties": {
            "code": area.code,
            "name": area.name_zh,
            "name_en": area.name_en,
            "level": area.feature.level,
            "measure": data.measure,
            "value": None if area.value is None else float(area.value),
            "money": area.money.as_dict(),
            "projects": {"total": area.projects.total, "stages": stages},
            "score": area.score,
            "pairings": [
                {
                    "id": p.pk,
                    "assisting_organization": str(p.assisting_organization),
                    "assisting_place": list(place) if (place := selectors.place_of(p)) else None,
                    "recipient_region": p.recipient_region.code,
                    "score": area.scores.get(p.pk),
                    "url": request.build_absolute_uri(reverse("pairings:pairing_detail", args=[p.pk])),
                    "api_url": request.build_absolute_uri(reverse("api:pairing-detail", args=[p.pk])),
                }
                for p in area.pairings
            ],
            "url": request.build_absolute_uri(area.url),
        },
    }


class MapView(generics.GenericAPIView):
    """The areas of a programme's recipients at a level, each with the figures of the caller's pairings whose
    recipients lie in it (the same figures the pages show: money from the rollups, projects by stage, the latest
    evaluation run's scores). A recipient coarser than the level keeps its own area. Coordinates are the committed
    boundaries' (see `atlas/data/PROVENANCE.md`)."""

    serializer_class = MapSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        return programs_visible_to(user_of(self.request))

    @extend_schema(
        operation_id="map_retrieve",
        parameters=[
            OpenApiParameter(
                "program",
                {"type": "string", "minLength": 1, "maxLength": 40, "pattern": "^[-a-zA-Z0-9_]+$"},
                required=True,
                description=str(MapQuerySerializer().fields["program"].help_text),
            ),
            OpenApiParameter(
                "level", {"type": "string", "enum": list(boundaries.LEVELS)}, description="County by default."
            ),
            OpenApiParameter(
                "measure", {"type": "string", "enum": list(selectors.MEASURES)}, description="Fulfilment by default."
            ),
        ],
        responses={200: MapSerializer},
        summary="The map of a programme's recipients as GeoJSON",
    )
    def get(self, request: Request) -> Response:
        query = MapQuerySerializer(data=request.query_params, programs=self.get_queryset())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        data = selectors.map_data(user_of(request), params["program"], params["level"], params["measure"])
        body = {
            "type": "FeatureCollection",
            "program": data.program.code,
            "level": data.level,
            "measure": data.measure,
            "run": data.run.pk if data.run else None,
            "features": [_feature(area, data, request) for area in data.areas],
        }
        return Response(MapSerializer(body).data)
