"""Labels for history actions. Apps register theirs (in AppConfig.ready) so core needs no knowledge of them."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_labels: dict[str, str | Promise] = {
    "created": _("created"),
    "updated": _("updated"),
    "roles_changed": _("roles changed"),
    "activated": _("reactivated"),
    "deactivated": _("deactivated"),
}


def register_action_labels(labels: dict[str, str | Promise]) -> None:
    _labels.update(labels)


def action_label(action: str) -> str:
    return str(_labels.get(action, action))
