"""Who-sent-it signals, kept only as salted hashes: a device cookie, the network address, the browser.

Hashes are keyed with the secret and the round, so they cannot be reversed to an address, nor
linked across rounds; `survey-service purge` blanks them when a round is over.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

import msgspec

DEVICE_COOKIE = "sv_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600


class Signals(msgspec.Struct, kw_only=True, frozen=True):
    device_hash: str | None
    network_hash: str | None
    agent_hash: str | None


def new_device_id() -> str:
    return secrets.token_urlsafe(16)


def _hash(secret: str, survey_id: int, kind: str, value: str | None) -> str | None:
    if not value:
        return None
    message = f"{survey_id}|{kind}|{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def signal_hashes(secret: str, survey_id: int, device_id: str | None, address: str | None, agent: str | None) -> Signals:
    return Signals(
        device_hash=_hash(secret, survey_id, "device", device_id),
        network_hash=_hash(secret, survey_id, "network", address),
        agent_hash=_hash(secret, survey_id, "agent", agent),
    )


def parse_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """SURVEY_TRUSTED_PROXIES: comma-separated addresses or networks of our own reverse proxies."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple) -> str | None:
    """The respondent's address: the peer, unless the peer is a trusted proxy; then the nearest
    address in X-Forwarded-For that is not itself a trusted proxy (the rest can be forged)."""
    if not trusted or peer is None or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def request_address(request, trusted: tuple) -> str | None:
    """The address a Litestar request came from, through our own proxies only."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted)
