"""Who-sent-it signals, kept only as salted hashes: a device cookie, the network address, the browser.

Hashes are keyed with the secret and the round, so they cannot be reversed to an address, nor
linked across rounds; `survey-service purge` blanks them when a round is over.
"""

from __future__ import annotations

import hashlib
import hmac
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


def signal_hashes(
    secret: str, survey_id: int, device_id: str | None, address: str | None, agent: str | None
) -> Signals:
    return Signals(
        device_hash=_hash(secret, survey_id, "device", device_id),
        network_hash=_hash(secret, survey_id, "network", address),
        agent_hash=_hash(secret, survey_id, "agent", agent),
    )
