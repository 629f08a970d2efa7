"""Keyed hashes of client addresses: rows that must tell senders apart (flags, "affected too", the ban list,
a report's sender) keep these, never the address.

Below every service, so that `reports.services` (a report's `sender_key`) and `reports.bans` can use them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from django.conf import settings


def address_key(address: str) -> str:
    """A keyed hash of the client address: equal addresses match, and the address cannot be read back."""
    return hmac.new(settings.SECRET_KEY.encode(), f"address:{address}".encode(), hashlib.sha256).hexdigest()


def canonical_address(address: str) -> str:
    """An IP address written one way (IPv6 compressed and lower-cased, IPv4 without leading zeros), so that
    an address a moderator types and the one a request came from give the same key; anything else as given."""
    address = address.strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def sender_key(address: str) -> str:
    """What a report or an update keeps of its sender's client address ("" when there is none)."""
    address = canonical_address(address)
    return address_key(address) if address else ""
