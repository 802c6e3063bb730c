"""The map as GeoJSON (RFC 7946): a FeatureCollection of the programme's areas, the figures in `properties`."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.api.fields import money
from core.api.serializers import QuerySerializerMixin
from pairings.models import Program

from ..boundaries import LEVELS
from ..selectors import MEASURES


class MapQuerySerializer(QuerySerializerMixin, serializers.Serializer):
    program = serializers.CharField(
        max_length=40, help_text="The programme's code (`xinjiang-2010`) or id; one the caller may see."
    )
    level = serializers.ChoiceField(
        choices=list(LEVELS),
        required=False,
        default="county",
        help_text="The areas' level: a recipient coarser than it keeps its own area. County by default.",
    )
    measure = serializers.ChoiceField(
        choices=list(MEASURES),
        required=False,
        default="fulfilment",
        help_text="The figure that `value` holds: mandate fulfilment (received ÷ required), funds received, "
        "projects (all states) or the latest evaluation score (an area with several pairings: the lowest).",
    )

    def __init__(self, *args: Any, programs: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = programs

    def validate_program(self, value: str) -> Program:
        found = None
        if self.programs is not None:
            if value.isascii() and value.isdigit() and len(value) <= 9:
                found = self.programs.filter(pk=int(value)).first()
            if found is None:
                found = self.programs.filter(code=value).first()
        if found is None:
            raise serializers.ValidationError(
                _("No programme %(value)s that you may see.") % {"value": value}, code="does_not_exist"
            )
        return found


class CoordinatesField(serializers.ListField):
    """Nested lists of numbers, handed out as they are (documented by the child fields; checking thousands of
    points one by one on the way out would cost more than the rest of the response)."""

    def to_representation(self, data: Any) -> Any:
        return data


class GeometrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["MultiPolygon"])
    coordinates = CoordinatesField(
        child=serializers.ListField(
            child=serializers.ListField(child=serializers.ListField(child=serializers.FloatField(), min_length=2))
        ),
        help_text="Longitude, latitude in degrees, as the committed boundary data give them: simplified (about "
        "1–2 km), 3 places (see atlas/data/PROVENANCE.md).",
    )


class MoneySerializer(serializers.Serializer):
    # `required` shadows a Field attribute in the type stubs only; DRF collects declared fields by name.
    required = money(  # type: ignore[assignment]
        help_text="Funds the mandates require, all years; a broken-down mandate counted once."
    )
    pledged = money(help_text="Pledges not yet committed.")
    committed = money()
    received = money(help_text="Disbursements: what the recipient received.")
    spent = money()
    fulfilment = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, help_text="received ÷ required; null when 0."
    )
    delivery = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, help_text="received ÷ committed; null when 0."
    )


class StagesSerializer(serializers.Serializer):
    selection = serializers.IntegerField()
    approval = serializers.IntegerField()
    construction = serializers.IntegerField()
    supervision = serializers.IntegerField()
    evaluation = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class ProjectsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Every project of the area's pairings, cancelled included.")
    stages = StagesSerializer()


class MapPairingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    assisting_organization = serializers.CharField(help_text="Its name in the language of the request.")
    assisting_place = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        help_text="[longitude, latitude] the line starts from: the party's region's coordinates, else its centroid.",
    )
    recipient_region = serializers.CharField(help_text="The recipient region's code.")
    score = serializers.FloatField(allow_null=True, help_text="The pairing's score in the programme's latest run.")
    url = serializers.CharField(help_text="The pairing's page.")
    api_url = serializers.CharField(help_text="The pairing in the API.")


class AreaPropertiesSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The area's GB/T 2260 code.")
    name = serializers.CharField(help_text="Chinese name.")
    name_en = serializers.CharField(allow_blank=True)
    level = serializers.ChoiceField(choices=list(LEVELS), help_text="The area's own level.")
    measure = serializers.ChoiceField(choices=list(MEASURES))
    value = serializers.FloatField(allow_null=True, help_text="The measure's value, to shade by; null: no data.")
    money = MoneySerializer()
    projects = ProjectsSerializer()
    score = serializers.FloatField(allow_null=True, help_text="The lowest of the pairings' latest scores.")
    pairings = MapPairingSerializer(many=True)
    url = serializers.CharField(help_text="The area's pairing page, or the list of its pairings.")


class AreaFeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.CharField(help_text="The area's code.")
    geometry = GeometrySerializer()
    properties = AreaPropertiesSerializer()


class MapSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    program = serializers.CharField(help_text="The programme's code.")
    level = serializers.ChoiceField(choices=list(LEVELS))
    measure = serializers.ChoiceField(choices=list(MEASURES))
    run = serializers.IntegerField(allow_null=True, help_text="The evaluation run the scores are from.")
    features = AreaFeatureSerializer(many=True)
