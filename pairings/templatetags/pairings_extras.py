from decimal import Decimal

from django import template
from django.utils.safestring import SafeString

from pairings.charts import bar

register = template.Library()


@register.filter
def fulfilment_bar(fraction: Decimal | None) -> SafeString:
    return bar(fraction)
