from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """Data exchange: what other systems read and receive (IATI XML, the event feed; later exports, imports and
    webhooks). It sits above `evaluation` in the import chain and nothing below imports it."""

    name = "exchange"
    verbose_name = _("Data exchange")
