"""OpenAPI description of the project's token authentication (the same header as knox's)."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class TokenScheme(KnoxTokenScheme):
    target_class = "accounts.auth.TokenAuthentication"
