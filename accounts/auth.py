"""Who is asking, in one query, written once: the API's token and the pages' signed-in user.

knox's own `TokenAuthentication` lists every token of the user on every request to delete the expired ones, then
the views load the caller's organization and roles. Here the token comes with its user, organization, region
and (on PostgreSQL) roles in one statement; an expired token is refused (401) but not deleted on the request path —
`purge_expired_tokens` (accounts.tasks, on Celery beat) removes them.

Every API request pays for this, so the statement is not built by the ORM each time: its SQL is written once per
database from the models' own fields (the columns the ORM would select with `select_related`), and the row is
turned into real model instances with `Model.from_db` — the token, its user, the user's organization and its
region, linked through the relations' caches as `select_related` leaves them. `request.user` is an ordinary
`User`, `request.auth` an ordinary `AuthToken`.

The pages' sessions name the user by id; Django's `ModelBackend.get_user` would read the user, and the page would
then ask for the organization and the roles, three statements before the page's own work on every signed-in request.
`UserBackend` reads them with the same statement, keyed by the user's id instead of the token.
"""

import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from hmac import compare_digest
from typing import Any, cast

from django.contrib.auth.backends import ModelBackend
from django.db import connections, router
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from core.models import Region

from .models import Organization, RoleAssignment, User

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Part:
    """The columns of one model in the row: where they start and end, their names, their converters."""

    model: type[Model]
    start: int
    end: int
    names: tuple[str, ...]
    pk_at: int  # the primary key's index in the row
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]  # (index in the part, converters, the column)


@dataclass(frozen=True)
class _Statement:
    sql: str
    token: _Part | None  # None when the statement reads a user by id
    user: _Part
    organization: _Part
    region: _Part
    with_roles: bool


_STATEMENTS: dict[tuple[str, bool], _Statement] = {}


def _statement(alias: str, *, by_token: bool = True) -> _Statement:
    """The caller's statement for the database ALIAS: the token by its key joined to its user (inner), or
    (BY_TOKEN false) the user by id; then the user's organization and its region (outer joins), and on PostgreSQL
    the user's roles as an array."""
    statement = _STATEMENTS.get((alias, by_token))
    if statement is not None:
        return statement
    connection = connections[alias]
    qn = connection.ops.quote_name
    columns: list[str] = []
    parts: list[_Part] = []
    tables = ((AuthToken, "t"),) if by_token else ()
    for model, table_alias in (*tables, (User, "u"), (Organization, "o"), (Region, "r")):
        fields = model._meta.concrete_fields
        converters = []
        for i, field in enumerate(fields):
            expression = field.get_col(table_alias)
            found = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
            if found:
                converters.append((i, tuple(found), expression))
        start = len(columns)
        columns += [f"{table_alias}.{qn(cast(str, field.column))}" for field in fields]
        names = tuple(f.attname for f in fields)
        pk_at = start + names.index(model._meta.pk.attname)
        parts.append(_Part(model, start, len(columns), names, pk_at, tuple(converters)))

    def col(model: type[Model], name: str) -> str:
        return qn(cast(str, cast(Field, model._meta.get_field(name)).column))

    with_roles = connection.vendor == "postgresql"
    roles = (
        f", ARRAY(SELECT ra.{col(RoleAssignment, 'role')} FROM {qn(RoleAssignment._meta.db_table)} ra"  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
        f" WHERE ra.{col(RoleAssignment, 'user')} = u.{col(User, 'id')})"
        if with_roles
        else ""
    )
    if by_token:
        source = (
            f" FROM {qn(AuthToken._meta.db_table)} t"
            f" INNER JOIN {qn(User._meta.db_table)} u ON u.{col(User, 'id')} = t.{col(AuthToken, 'user')}"
        )
        where = f" WHERE t.{col(AuthToken, 'token_key')} = %s"
    else:
        source, where = f" FROM {qn(User._meta.db_table)} u", f" WHERE u.{col(User, 'id')} = %s"
    sql = (
        f"SELECT {', '.join(columns)}{roles}{source}"
        f" LEFT OUTER JOIN {qn(Organization._meta.db_table)} o"
        f" ON o.{col(Organization, 'id')} = u.{col(User, 'organization')}"
        f" LEFT OUTER JOIN {qn(Region._meta.db_table)} r ON r.{col(Region, 'id')} = o.{col(Organization, 'region')}"
        f"{where}"
    )
    token = parts.pop(0) if by_token else None
    user, organization, region = parts
    statement = _Statement(sql, token, user, organization, region, with_roles)
    _STATEMENTS[alias, by_token] = statement
    return statement


def _instance(part: _Part, row: Sequence[Any], alias: str, connection: Any) -> Any:
    """The model instance of PART's columns in ROW, as the ORM would build it (None for an outer join's nulls)."""
    if row[part.pk_at] is None:
        return None  # no row on this side of an outer join
    values = row[part.start : part.end]
    if part.converters:
        values = list(values)
        for i, converters, col in part.converters:
            for convert in converters:
                values[i] = convert(values[i], col, connection)
    return part.model.from_db(alias, part.names, values)


def _user(statement: _Statement, row: Sequence[Any], alias: str, connection: Any) -> User:
    """The user of ROW with its organization, the organization's region and (on PostgreSQL) its roles cached, as
    `select_related` and the roles' cached property would leave them."""
    user = _instance(statement.user, row, alias, connection)
    organization = _instance(statement.organization, row, alias, connection)
    if organization is not None:
        organization._state.fields_cache["region"] = _instance(statement.region, row, alias, connection)
    user._state.fields_cache["organization"] = organization
    if statement.with_roles:
        # The caller's roles came along, so that no view asks for them again.
        user.__dict__["roles"] = frozenset(r for r in row[-1] if r)
        # Everything the user's scope and roles are made of, as read: what a statement compiled for this user is
        # a function of (core.worklist keeps the navigation's compiled count by it).
        state = tuple(tuple(v) if isinstance(v, list) else v for v in row)
        try:
            hash(state)
        except TypeError:
            pass
        else:
            user.__dict__["state_key"] = state
    return cast(User, user)


class UserBackend(ModelBackend):
    """Django's ModelBackend (passwords, `is_active`, permissions), whose `get_user` — run on every signed-in
    page — reads the user with their organization, its region and their roles in one statement."""

    def get_user(self, user_id: Any) -> User | None:
        alias = router.db_for_read(User)
        connection = connections[alias]
        statement = _statement(alias, by_token=False)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = _user(statement, row, alias, connection)
        return user if self.user_can_authenticate(user) else None


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        message = _("Invalid or expired token.")
        try:
            key = token.decode("utf-8")
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, binascii.Error) as exc:
            raise exceptions.AuthenticationFailed(message) from exc
        alias = router.db_for_read(AuthToken)
        connection = connections[alias]
        statement = _statement(alias)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, [key[: CONSTANTS.TOKEN_KEY_LENGTH]])
            found = cursor.fetchall()
        now = timezone.now()
        token_part = cast(_Part, statement.token)  # read by token: never None
        for row in found:
            candidate = _instance(token_part, row, alias, connection)
            if candidate.expiry is not None and candidate.expiry < now:
                continue
            if not compare_digest(digest, candidate.digest):
                continue
            candidate._state.fields_cache["user"] = _user(statement, row, alias, connection)
            return self.validate_user(candidate)
        raise exceptions.AuthenticationFailed(message)
