"""DRF's own field messages in one language at a time.

A few of DRF's messages put a Python type name or an internal attribute into the sentence ("Incorrect type.
Expected pk value, received str.", "Object with code=X does not exist.", a format pattern "YYYY-MM-DD"), which
its Chinese catalogue then shows inside a Chinese sentence ("期望为主键，获得的类型为 str"). These are replaced
here by messages of our own catalogue, the same for every field of that class; `use_plain_messages` runs once at
start-up (CoreConfig.ready), before any serializer is instantiated (DRF builds a field's messages from its class's
`default_error_messages` when the field is made, and makes every serializer's fields anew).

A few other messages of DRF's are right in English but mix English into their Chinese ("该字段不能为 null。"): our
catalogue, which Django reads before the apps' own, gives them a Chinese of ours (`SAME_TEXT_OURS_IN_CHINESE`).
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from rest_framework import fields, relations, serializers

#: (field class, message key) → our message. Placeholders are DRF's own (`str.format`); those the message does not
#: use are ignored.
PLAIN_MESSAGES = {
    (relations.PrimaryKeyRelatedField, "incorrect_type"): _("Incorrect type: expected an id, a whole number."),
    (relations.PrimaryKeyRelatedField, "does_not_exist"): _("There is no record with the id {pk_value}."),
    (relations.SlugRelatedField, "does_not_exist"): _("There is no record with the value {value}."),
    (relations.ManyRelatedField, "not_a_list"): _("Expected a list of ids."),
    (fields.ListField, "not_a_list"): _("Expected a list."),
    (fields.MultipleChoiceField, "not_a_list"): _("Expected a list."),
    (fields.DictField, "not_a_dict"): _("Expected an object with named values."),
    (serializers.ListSerializer, "not_a_list"): _("Expected a list."),
    (serializers.Serializer, "invalid"): _("Invalid data: expected an object with named fields."),
    (fields.DateField, "invalid"): _("Enter a date as year-month-day, e.g. 2024-03-01."),
    (fields.DateTimeField, "invalid"): _(
        "Enter a date and time as year-month-day and hours:minutes, e.g. 2024-03-01T08:30:00+08:00."
    ),
    (fields.TimeField, "invalid"): _("Enter a time as hours:minutes, e.g. 08:30."),
    (fields.DurationField, "invalid"): _("Enter a duration as days hours:minutes:seconds, e.g. 3 08:30:00."),
}

#: DRF's messages kept as they are in English, whose Chinese is ours (listed so that they are extracted).
SAME_TEXT_OURS_IN_CHINESE = [
    gettext_noop("This field may not be null."),
]


def use_plain_messages() -> None:
    for (field_class, key), message in PLAIN_MESSAGES.items():
        # The class's own dict (not one inherited from a parent class): set where DRF declares the key.
        owner = next(c for c in field_class.__mro__ if key in c.__dict__.get("default_error_messages", {}))
        owner.__dict__["default_error_messages"][key] = message
