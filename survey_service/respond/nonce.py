"""Signed per-form nonces.

Issued with the answer page; the signature proves the server issued it (a forged one is refused),
its timestamp gives the seconds the respondent took, and its uniqueness in the response table makes
a double-clicked submit store one response.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from survey_service.core.errors import ExpiredForm


def _sign(secret: str, token: str, issued: str, salt: str) -> str:
    digest = hmac.new(secret.encode(), f"{token}.{issued}.{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def issue_nonce(secret: str, token: str, now: float | None = None) -> str:
    issued = format(int(now if now is not None else time.time()), "x")
    salt = secrets.token_urlsafe(12)
    return f"{issued}.{salt}.{_sign(secret, token, issued, salt)}"


def verify_nonce(secret: str, token: str, nonce: str, max_age: float, now: float | None = None) -> int:
    """The seconds since the form was issued; raises ExpiredForm for a forged or stale nonce."""
    issued, _, rest = nonce.partition(".")
    salt, _, signature = rest.partition(".")
    if not (issued and salt and signature) or len(nonce) > 64:
        raise ExpiredForm()
    if not hmac.compare_digest(signature, _sign(secret, token, issued, salt)):
        raise ExpiredForm()
    elapsed = (now if now is not None else time.time()) - int(issued, 16)
    if not -60 <= elapsed <= max_age:
        raise ExpiredForm()
    return max(0, int(elapsed))


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
    if not (issued and signature) or len(receipt) > 64:
        return False
    if not hmac.compare_digest(signature, _sign(secret, token, issued, "receipt:" + kind)):
        return False
    try:
        elapsed = (now if now is not None else time.time()) - int(issued, 16)
    except ValueError:
        return False
    return -60 <= elapsed <= max_age
