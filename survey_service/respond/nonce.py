"""Signed per-form nonces.

Issued with the answer page; the signature proves the server issued it (a forged one is refused),
its timestamp gives the seconds the respondent took, and its uniqueness in the response table makes
a double-clicked submit store one response.

A form is bound to the device (the signed device cookie) it was issued to: its nonce carries a keyed
tag of that device's id (never the id itself: nonces are stored, device ids only as hashes). Sent
back with another valid device cookie it is refused; sent back with none, it is taken as an answer
from a browser that kept no cookie (respond/quality.py flags it).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time

import msgspec

from survey_service.core.errors import ExpiredForm
from survey_service.core.keyed_hash import keyed_hash


class CheckedNonce(msgspec.Struct, kw_only=True, frozen=True):
    seconds: int  # since the form was issued
    bound: bool  # issued to a device (with a device cookie): every form the server issues now is


def _sign(secret: str, token: str, issued: str, salt: str) -> str:
    digest = keyed_hash(secret).digest(f"{token}.{issued}.{salt}".encode())  # HMAC-SHA256
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def _device_tag(secret: str, token: str, device_id: str) -> str:
    digest = keyed_hash(secret).digest(f"form-device|{token}|{device_id}".encode())
    return base64.urlsafe_b64encode(digest[:6]).decode()


def issue_nonce(secret: str, token: str, now: float | None = None, device_id: str | None = None) -> str:
    """A form's nonce, bound to `device_id` when given (`{issued}.{salt}.{tag}.{signature}`, 57
    characters); unbound (`{issued}.{salt}.{signature}`) only as issued before forms were bound."""
    issued = format(int(now if now is not None else time.time()), "x")
    salt = secrets.token_urlsafe(12)
    if device_id is not None:
        salt = f"{salt}.{_device_tag(secret, token, device_id)}"
    return f"{issued}.{salt}.{_sign(secret, token, issued, salt)}"


def check_nonce(
    secret: str, token: str, nonce: str, max_age: float, now: float | None = None, device_id: str | None = None
) -> CheckedNonce:
    """The seconds since the form was issued and whether it was bound to a device; raises ExpiredForm
    for a forged or stale nonce (anything not ASCII included), or one issued to another device than
    the one `device_id` (a verified device cookie) names."""
    if len(nonce) > 64 or not nonce.isascii():
        raise ExpiredForm()
    issued, _, rest = nonce.partition(".")
    salt, _, signature = rest.rpartition(".")
    if not (issued and salt and signature):
        raise ExpiredForm()
    if not hmac.compare_digest(signature.encode(), _sign(secret, token, issued, salt).encode()):
        raise ExpiredForm()
    try:
        elapsed = (now if now is not None else time.time()) - int(issued, 16)
    except ValueError:
        raise ExpiredForm() from None
    if not -60 <= elapsed <= max_age:
        raise ExpiredForm()
    _, bound, tag = salt.partition(".")
    if bound and device_id is not None and not hmac.compare_digest(tag, _device_tag(secret, token, device_id)):
        raise ExpiredForm()
    return CheckedNonce(seconds=max(0, int(elapsed)), bound=bool(bound))


def verify_nonce(
    secret: str, token: str, nonce: str, max_age: float, now: float | None = None, device_id: str | None = None
) -> int:
    """The seconds since the form was issued; raises ExpiredForm as `check_nonce` does."""
    return check_nonce(secret, token, nonce, max_age, now, device_id).seconds


# How long the thank-you page believes the receipt its redirect carries: a reload soon after is still
# thanked; later, or with no receipt at all, the page says nothing of a submission (the answer page
# itself then tells a phone that answered, by its device cookie).
RECEIPT_MAX_AGE = 3600


def issue_receipt(secret: str, token: str, kind: str, now: float | None = None) -> str:
    """A short signed value for the thank-you redirect, saying an answer to `token` was just stored
    (`kind` "stored") or its form sent again ("repeat"). Signed apart from nonces: ":" never occurs in
    a nonce's salt, so neither can pass for the other."""
    issued = format(int(now if now is not None else time.time()), "x")
    return f"{issued}.{_sign(secret, token, issued, 'receipt:' + kind)}"


def check_receipt(
    secret: str, token: str, kind: str, receipt: str, max_age: float = RECEIPT_MAX_AGE, now: float | None = None
) -> bool:
    """Whether `receipt` is one `issue_receipt` gave for this token and kind, within `max_age` seconds."""
    issued, _, signature = receipt.partition(".")
    if not (issued and signature) or len(receipt) > 64 or not receipt.isascii():
        return False
    if not hmac.compare_digest(signature.encode(), _sign(secret, token, issued, "receipt:" + kind).encode()):
        return False
    try:
        elapsed = (now if now is not None else time.time()) - int(issued, 16)
    except ValueError:
        return False
    return -60 <= elapsed <= max_age
