"""Where a webhook may be sent: http(s) on public addresses only (the SSRF guard).

A target is checked when a subscription is made or changed, and again right before every delivery, because what a
name resolves to can change between the two. Every address the name resolves to must be global
(`ipaddress.is_global`): loopback, private, link-local (which holds the cloud metadata service at 169.254.169.254
and fd00:ec2::254), shared, reserved and multicast addresses are refused, as are IPv4 addresses wrapped in IPv6
(::ffff:10.0.0.1, 64:ff9b::/96, 6to4). The delivery then connects to the address that was checked (see
`webhooks.sender`), so a second lookup cannot swap in another one. `WEBHOOKS_ALLOW_PRIVATE` lifts the address rule
(tests and development send to 127.0.0.1), never the scheme rule.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Metadata services that some clouds put outside link-local space; refused even when is_global says otherwise.
METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(ValueError):
    """The URL may not be a webhook target; the message says why, for the client or staff."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts and the address to connect to."""

    url: str
    scheme: str
    host: str  # as written in the URL, without brackets (the Host header and the TLS name)
    port: int
    address: str  # the checked IP address the connection goes to


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (A and AAAA), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, NAT64 or 6to4 IPv6 address, which reaches that IPv4 host."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    if address in METADATA_ADDRESSES:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        inner = _embedded_ipv4(address)
        if inner is not None and not address_is_public(inner):
            return False
    return address.is_global and not address.is_multicast


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or TargetRefused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(_("The URL could not be read: %(reason)s.") % {"reason": exc}) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused(_("Only http and https URLs can receive webhooks."))
    if not parts.hostname:
        raise TargetRefused(_("The URL has no host name."))
    if parts.username or parts.password:
        raise TargetRefused(_("Put no user name or password in the URL: verify our signature instead."))
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def _addresses(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    with suppress(ValueError):  # a name, not an address: resolved below
        return [ipaddress.ip_address(host)]
    try:
        found = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(_("The host %(host)s could not be found.") % {"host": host}) from exc
    if not found:
        raise TargetRefused(_("The host %(host)s could not be found.") % {"host": host})
    return [ipaddress.ip_address(a.split("%")[0]) for a in found]


def check_target(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> Target:
    """The URL with the address to send to, if every address its host resolves to may be sent to."""
    scheme, host, port = split_url(url)
    addresses = _addresses(host, port, resolver)
    if not allow_private:
        refused = [a for a in addresses if not address_is_public(a)]
        if refused:
            # Every address must pass: a client connecting to any of them could reach the refused one.
            raise TargetRefused(
                _("%(host)s resolves to %(address)s, which is not a public address: webhooks are only sent to "
                  "public addresses.") % {"host": host, "address": refused[0]})
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, address=str(addresses[0]))
