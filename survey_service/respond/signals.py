"""Who-sent-it signals, kept only as salted hashes: a device cookie, the network address, the browser.

Hashes are keyed with the secret and the round, so they cannot be reversed to an address, nor
linked across rounds; `survey-service purge` blanks them when a round is over.

The device cookie is the server's own: a random id and its issue time, signed (HMAC) with the
secret. A cookie the server did not sign (made up, edited, from before signing, expired) counts as
no cookie at all, so a sender cannot pass for many phones by inventing ids.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time

import msgspec

from survey_service.core.keyed_hash import keyed_hash

DEVICE_COOKIE = "sv_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
# A cookie claiming an issue time this far ahead of our clock is not one we issued (clock skew
# between two servers of one deployment stays far below it).
DEVICE_COOKIE_SKEW = 300


class Signals(msgspec.Struct, kw_only=True, frozen=True):
    device_hash: str | None
    network_hash: str | None
    # The browser's signature: User-Agent, Accept-Language and the client hints it sends.
    agent_hash: str | None


class DeviceCookie(msgspec.Struct, kw_only=True, frozen=True):
    """A verified device cookie: its random id and when it was issued (Unix seconds)."""

    id: str
    issued: int


def _device_signature(secret: str, device: str, issued: str) -> str:
    digest = keyed_hash(secret).digest(f"device|{device}|{issued}".encode())  # HMAC-SHA256
    return base64.urlsafe_b64encode(digest[:12]).decode()


def new_device_cookie(secret: str, now: float | None = None) -> tuple[str, str]:
    """(the cookie's value, the device id it names): a fresh random id with its issue time, signed."""
    device = secrets.token_urlsafe(12)
    issued = format(int(now if now is not None else time.time()), "x")
    return f"{device}.{issued}.{_device_signature(secret, device, issued)}", device


def verify_device_cookie(secret: str, value: str | None, now: float | None = None) -> DeviceCookie | None:
    """The device a cookie value names, if this server signed it and it has not expired; else None
    (no cookie: unsigned, forged, edited, expired or not ASCII)."""
    if not value or len(value) > 64 or not value.isascii():
        return None
    device, _, rest = value.partition(".")
    issued, _, signature = rest.partition(".")
    if not (device and issued and signature):
        return None
    if not hmac.compare_digest(signature.encode(), _device_signature(secret, device, issued).encode()):
        return None
    try:
        issued_at = int(issued, 16)
    except ValueError:
        return None
    age = (now if now is not None else time.time()) - issued_at
    if not -DEVICE_COOKIE_SKEW <= age <= DEVICE_COOKIE_MAX_AGE:
        return None
    return DeviceCookie(id=device, issued=issued_at)


def browser_signature(agent: str | None, language: str | None = None, hints: str | None = None) -> str | None:
    """What a request without JavaScript says about its browser, as one string: the User-Agent, the
    Accept-Language and the client hints (Sec-CH-UA, -Mobile, -Platform) where sent."""
    if not (agent or language or hints):
        return None
    return "\x1f".join((agent or "", language or "", hints or ""))


def _hash(secret: str, survey_id: int, kind: str, value: str | None) -> str | None:
    if not value:
        return None
    message = f"{survey_id}|{kind}|{value}".encode()
    return keyed_hash(secret).digest(message).hex()[:32]


def signal_hashes(
    secret: str,
    survey_id: int,
    device_id: str | None,
    address: str | None,
    agent: str | None,
    language: str | None = None,
    hints: str | None = None,
) -> Signals:
    return Signals(
        device_hash=_hash(secret, survey_id, "device", device_id),
        network_hash=_hash(secret, survey_id, "network", address),
        agent_hash=_hash(secret, survey_id, "agent", browser_signature(agent, language, hints)),
    )
