"""The API's router: a path's id is checked by the URL pattern itself, before any view or query runs."""

from typing import Any

from rest_framework.routers import DefaultRouter

#: ASCII digits only: `\d` would let in `¹` and `１`, which str.isdigit accepts and int() or the database refuse.
PLAIN_ID = "[0-9]+"
#: A code as a SlugField holds it (`xinjiang-2010`): ASCII letters, digits, `-` and `_`; never a NUL byte.
PLAIN_CODE = "[-a-zA-Z0-9_]+"


class Router(DefaultRouter):
    """DRF's DefaultRouter, except that a viewset that does not declare `lookup_value_regex` is looked up by a
    plain id (`PLAIN_ID`) instead of by anything but a slash or a dot. A path that does not match is a 404 from the
    resolver, in the API's error format, whatever the view would have made of it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._default_value_pattern = PLAIN_ID
