"""Request rates counted in fixed windows: one cache increment per request.

DRF's own throttles keep every request's timestamp of the window in the cache and rewrite that list on each
request, which grows with the allowed rate (6,000 a minute for a signed-in system). A counter per window costs
the same at any rate; the price is that a burst may straddle two windows.
"""

import ipaddress
import logging
from typing import Any

import redis
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_address(request: HttpRequest | Request) -> str:
    """The client's address as the settings' TRUSTED_PROXY_COUNT (DRF's NUM_PROXIES) defines it: REMOTE_ADDR with no
    proxy, else the address that many hops from the right of X-Forwarded-For — never what the client wrote itself.
    django-axes records attempts under this address too (AXES_CLIENT_IP_CALLABLE).

    What a proxy passed on is still checked: an entry that is not an IP address (a client reaching the server
    directly with a header of its own) gives way to REMOTE_ADDR, so that a counter's key and axes' address
    column hold an address."""
    ident = BaseThrottle().get_ident(request)  # type: ignore[arg-type]
    try:
        ipaddress.ip_address(ident)
    except ValueError:
        return str(request.META.get("REMOTE_ADDR", ""))
    return str(ident)


logger = logging.getLogger(__name__)

#: What a cache that cannot be reached raises: Redis's errors, or the file cache's.
CACHE_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, OSError)


class FixedWindowThrottle(SimpleRateThrottle):
    """A counter per key and window. When the cache cannot be reached the request is let through and the outage
    logged: a rate limit is not worth failing every request for (`/readyz` reports the cache as down, and the
    lockout of an account after failed sign-ins is kept in the database, not the cache)."""

    # Set by SimpleRateThrottle.__init__ from the rate ("6000/minute").
    num_requests: int
    duration: int

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return self._allow(request, view)
        except CACHE_ERRORS as exc:
            logger.warning("rate limit %s not counted, the cache did not answer: %s", self.scope, exc)
            return True

    def _allow(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        window = int(self.timer() // self.duration)
        self.key = f"{key}:{window}"
        if self.cache.add(self.key, 1, self.duration):
            return True
        try:
            count = self.cache.incr(self.key)
        except ValueError:  # the window's entry expired between add and incr
            self.cache.add(self.key, 1, self.duration)
            return True
        return count <= self.num_requests

    def wait(self) -> float | None:
        return self.duration - (self.timer() % self.duration)

    def get_ident(self, request: Request | HttpRequest) -> str:  # type: ignore[override]
        return client_address(request)


class UserThrottle(FixedWindowThrottle):
    """Per signed-in user (scope `user`); anonymous requests are left to AnonThrottle."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonThrottle(FixedWindowThrottle):
    """Per client address for requests without a signed-in user (scope `anon`)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginThrottle(FixedWindowThrottle):
    """Sign-in attempts per client address (scope `login`), on the API's login and the sign-in page alike: both
    count in the same window, so switching doors does not double the allowance. Counted before the password is
    checked, successful or not."""

    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}
