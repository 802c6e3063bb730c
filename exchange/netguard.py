"""Where a webhook may send (the SSRF guard) and the one way it sends: to the address that was checked.

A URL is refused unless it is http or https and every address its host stands for is public: loopback,
private, link-local (169.254.169.254, the cloud metadata service), multicast, reserved and unspecified addresses
are refused unless `settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS` allows them. The check runs when the URL is
registered and again at every delivery on the addresses the name resolves to then; the connection goes to the
address just checked (the Host header and TLS server name still carry the name), so a name that resolves to a
public address for the check and to a private one a moment later (DNS rebinding) cannot turn the check around.
Redirects are not followed and no proxy is used."""

import http.client
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import Problem

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: How much of a receiver's answer is read: the status is what counts.
MAX_ANSWER_BYTES = 4096


class Refused(Exception):
    """The URL or the address it resolves to may not be sent to."""


def private_networks_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", False))


def address_allowed(address: IPAddress) -> bool:
    """Whether ADDRESS is one a webhook may reach: public, unless private networks are allowed."""
    if private_networks_allowed():
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses HOST stands for (an address given as such stands for itself)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for info in infos:
        # The scope of a link-local IPv6 address ("%eth0") is not part of the address.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class Target:
    """A URL taken apart: what the request is sent to."""

    scheme: str
    host: str
    port: int
    path: str


def parse(url: str) -> tuple[Target | None, list[Problem]]:
    """URL as a target, or why it cannot be one (problems on the field `url`). No name is resolved here."""
    problems: list[Problem] = []
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        return None, [Problem("invalid_url", _("Enter a valid URL."), "url")]
    if parts.scheme not in ("http", "https"):
        problems.append(Problem("invalid_scheme", _("Only http and https URLs can receive webhooks."), "url"))
    if not parts.hostname:
        problems.append(Problem("invalid_url", _("Enter a valid URL."), "url"))
    if parts.username is not None or parts.password is not None:
        problems.append(
            Problem(
                "credentials_in_url",
                _("Put no user name or password in the URL: the receiver verifies the signature instead."),
                "url",
            )
        )
    if problems:
        return None, problems
    assert parts.hostname is not None  # noqa: S101 — checked above
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default, path), []


def check_url(url: str) -> list[Problem]:
    """Why URL may not be registered (empty when it may): its form, and the addresses its host stands for now.
    A name that does not resolve now is accepted: it is checked again at each delivery."""
    target, problems = parse(url)
    if target is None:
        return problems
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError):
        return []
    if not all(address_allowed(a) for a in addresses):
        return [
            Problem(
                "private_address",
                _("This URL leads to a loopback, private or reserved address; webhooks go to public addresses only."),
                "url",
            )
        ]
    return []


@dataclass(frozen=True)
class Answer:
    status_code: int
    duration_ms: int


def _connection(target: Target, address: IPAddress, timeout: float) -> http.client.HTTPConnection:
    """A connection that speaks to TARGET's host by name (Host header, TLS server name and certificate) but
    connects to ADDRESS, the one checked."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def pinned(_address: Any, timeout: Any = None, source_address: Any = None) -> socket.socket:
        return socket.create_connection((str(address), target.port), timeout, source_address)

    connection._create_connection = pinned  # type: ignore[attr-defined]
    return connection


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST BODY to URL, to an address checked just now; the answer's status and how long it took. Raises
    Refused when the URL or its addresses may not be sent to, OSError (or http.client's errors) when the
    connection fails or times out."""
    target, problems = parse(url)
    if target is None:
        raise Refused("; ".join(str(p.message) for p in problems))
    addresses = resolve(target.host, target.port)
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise Refused(f"{target.host} resolves to a refused address ({refused[0] if refused else 'none'})")
    timeout = float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5.0))
    started = time.monotonic()
    connection = _connection(target, addresses[0], timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        return Answer(response.status, int((time.monotonic() - started) * 1000))
    finally:
        connection.close()
