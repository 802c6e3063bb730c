"""Domain errors: what a service raises when a rule says no. Views turn them into messages, the API into 4xx."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class Problem:
    """One thing wrong: a stable code for machines, a message for people, and the field it concerns."""

    code: str
    message: str | Promise
    field: str | None = None


class DomainError(Exception):
    """A rule refused the action. Carries one or more problems so a form or client can fix all at once."""

    status_code = 400

    def __init__(self, code: str, message: str | Promise, field: str | None = None):
        self.problems: list[Problem] = [Problem(code, message, field)]
        super().__init__(str(message))

    @property
    def code(self) -> str:
        return self.problems[0].code

    @property
    def message(self) -> str:
        return str(self.problems[0].message)

    @property
    def field(self) -> str | None:
        return self.problems[0].field

    @classmethod
    def many(cls, problems: Iterable[Problem]) -> "DomainError":
        items = list(problems)
        if not items:
            raise ValueError("DomainError.many needs at least one problem")
        err = cls(items[0].code, items[0].message, items[0].field)
        err.problems = items
        return err


class NotFound(DomainError):
    """The object does not exist for this user (out of scope looks the same as missing)."""

    status_code = 404


class PermissionDenied(DomainError):
    """The user may see the object but not do this."""

    status_code = 403


class Conflict(DomainError):
    """The object changed under the caller (state moved on, unique key taken concurrently)."""

    status_code = 409
