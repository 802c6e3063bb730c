"""Request rates counted in fixed windows: one cache increment per request.

DRF's own throttles keep every request's timestamp of the window in the cache and rewrite that list on each
request, which grows with the allowed rate (6,000 a minute for a signed-in system). A counter per window costs
the same at any rate; the price is that a burst may straddle two windows.
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class FixedWindowThrottle(SimpleRateThrottle):
    # Set by SimpleRateThrottle.__init__ from the rate ("6000/minute").
    num_requests: int
    duration: int

    def allow_request(self, request: Request, view: Any) -> bool:
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
