"""The egress policy: which addresses the service may open connections to on a caller's behalf
(webhook endpoints, detection streams).

Public addresses only, unless an address lies in ``EGRESS_ALLOW`` (a private media server, a
receiver for the local demo). A URL is checked after its host is resolved: every address it
resolves to must pass, so a name cannot smuggle a private address in beside a public one, and
numeric spellings (``2130706433``, ``0x7f000001``, ``127.1``, ``[::ffff:127.0.0.1]``) are read
the way the C library reads them. The check runs when the URL is registered and again when a
connection is opened: webhooks through ``EgressTransport``, which connects to the address it
checked (a name that changes its answer in between gains nothing) and follows no redirects.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

import httpcore
import httpx
from fastapi import Depends, Request

from app.config import Settings
from app.errors import Unprocessable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: host, port -> the addresses it resolves to (as text). Tests inject their own.
Resolver = Callable[[str, int], Sequence[str]]

DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322, "rtmp": 1935, "rtmps": 443}
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")


class DestinationRefused(Unprocessable):
    """The URL leads to an address the egress policy refuses (or to none at all)."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    """``"127.0.0.1/32, 10.1.0.0/16"`` (or a list of such) as networks.

    >>> parse_networks("127.0.0.1, ::1/128")
    (IPv4Network('127.0.0.1/32'), IPv6Network('::1/128'))
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def literal_address(host: str) -> Address | None:
    """The address a host names by itself, in any spelling the C resolver accepts.

    >>> [str(literal_address(h)) for h in ("2130706433", "0x7f000001", "127.1", "::1")]
    ['127.0.0.1', '127.0.0.1', '127.0.0.1', '::1']
    >>> literal_address("example.org") is None
    True
    """
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def is_public(address: Address) -> bool:
    """A globally routable unicast address (not loopback, private, link-local, shared,
    reserved, multicast or documentation).

    >>> [is_public(ipaddress.ip_address(a)) for a in ("8.8.8.8", "169.254.169.254", "::1")]
    [True, False, False]
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Public addresses, plus those in ``allow``."""

    allow: tuple[Network, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    def is_allowed(self, address: Address) -> bool:
        candidates: list[Address] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                candidates.append(embedded)
        for candidate in candidates:
            if any(candidate.version == n.version and candidate in n for n in self.allow):
                return True
        return is_public(address)

    def addresses(self, host: str, port: int) -> list[Address]:
        """The addresses of ``host``, all allowed; else ``DestinationRefused``."""
        literal = literal_address(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                found = [
                    ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(host, port)
                ]
            except (OSError, UnicodeError, ValueError) as exc:
                raise DestinationRefused(f"the host {host!r} cannot be resolved") from exc
            if not found:
                raise DestinationRefused(f"the host {host!r} cannot be resolved")
        refused = [str(a) for a in found if not self.is_allowed(a)]
        if refused:
            raise DestinationRefused(
                f"the host {host!r} leads to {', '.join(refused)}: not a public address, and "
                "not in WATERGUARD_EGRESS_ALLOW"
            )
        return found

    def check_url(self, url: str) -> list[Address]:
        """Resolve and check the host of ``url``; returns its addresses."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError as exc:
            raise DestinationRefused(f"the URL cannot be read: {exc}") from exc
        if not host or "\\" in parts.netloc:
            raise DestinationRefused("the URL names no host")
        return self.addresses(host, port or DEFAULT_PORTS.get(parts.scheme.lower(), 0))


class _GuardedBackend(httpcore.NetworkBackend):
    """Checks every TCP connect against the policy and connects to the address it checked."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.addresses(host, port)
        except DestinationRefused as exc:
            raise httpcore.ConnectError(f"refused by the egress policy: {exc.detail}") from exc
        return self.inner.connect_tcp(
            str(addresses[0]),
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def policy_of(settings: Settings) -> EgressPolicy:
    return EgressPolicy(allow=tuple(settings.egress_allow))


async def _egress_dependency(request: Request) -> EgressPolicy:
    # The app's policy (``create_app`` keeps it on ``app.state``; tests give it a resolver).
    policy: EgressPolicy = request.app.state.egress
    return policy


#: The app's egress policy as a route dependency.
EgressDep = Annotated[EgressPolicy, Depends(_egress_dependency)]


class EgressTransport(httpx.HTTPTransport):
    """httpx's transport with every connect checked (``_GuardedBackend``); no proxy, TLS is
    verified against the URL's host name as usual. A refused connect is an
    ``httpx.ConnectError`` whose message says so."""

    def __init__(self, policy: EgressPolicy) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_GuardedBackend(policy),
        )
