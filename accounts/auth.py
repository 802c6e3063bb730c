"""API token authentication in one query.

knox's own `TokenAuthentication` lists every token of the user on every request to delete the expired ones, then
the views load the caller's organization and roles. Here the token comes with its user, organization, region
and (on PostgreSQL) roles in one query; an expired token is refused (401) but not deleted on the request path — `purge_expired_tokens`
(accounts.tasks, on Celery beat) removes them.
"""

import binascii
from hmac import compare_digest
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from .models import RoleAssignment


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        message = _("Invalid or expired token.")
        try:
            key = token.decode("utf-8")
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, binascii.Error) as exc:
            raise exceptions.AuthenticationFailed(message) from exc
        now = timezone.now()
        candidates = AuthToken.objects.filter(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related(
            "user__organization__region"
        )
        if connection.vendor == "postgresql":
            # The caller's roles come along, so that no view asks for them again.
            # A correlated array subquery rather than an aggregate: no GROUP BY over the joined rows.
            candidates = candidates.annotate(
                role_list=ArraySubquery(RoleAssignment.objects.filter(user=OuterRef("user")).values("role"))
            )
        for candidate in candidates:
            if candidate.expiry is not None and candidate.expiry < now:
                continue
            if compare_digest(digest, candidate.digest):
                roles = getattr(candidate, "role_list", None)
                if roles is not None:
                    candidate.user.__dict__["roles"] = frozenset(r for r in roles if r)
                return self.validate_user(candidate)
        raise exceptions.AuthenticationFailed(message)
