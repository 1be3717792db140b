"""Who sent a request, as the respondent's routes read it: the headers an answer needs, straight
from the ASGI scope, the device cookie (only as this server signed it), and the network address
through our own proxies only."""

from __future__ import annotations

from litestar import Request
from litestar.types import Scope

from survey_service.core.network import client_address
from survey_service.respond.service import RespondService, Sender
from survey_service.respond.signals import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    DeviceCookie,
    new_device_cookie,
    verify_device_cookie,
)

# The client hints a browser sends unasked (the low-entropy ones; only over HTTPS), in this order.
HINT_HEADERS = (b"sec-ch-ua", b"sec-ch-ua-mobile", b"sec-ch-ua-platform")
SENDER_HEADERS = frozenset(
    {
        b"accept-language",
        b"content-length",
        b"content-type",
        b"cookie",
        b"host",
        b"user-agent",
        b"x-forwarded-for",
        *HINT_HEADERS,
    }
)


def sender_headers(scope: Scope) -> dict[bytes, str]:
    """The first value of each header an answer post reads, straight from the ASGI scope: Litestar's
    Headers and cookie parsing took about 7% of the route's CPU (py-spy, bench/answer_path.py)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in SENDER_HEADERS and name not in found:
            found[name] = value.decode("latin-1")
    return found


def cookie_value(headers: dict[bytes, str]) -> str | None:
    """The device cookie's value as the browser sent it (never quoted), if it sent one."""
    for part in headers.get(b"cookie", "").split(";"):
        key, _, value = part.partition("=")
        if key.strip() == DEVICE_COOKIE:
            return value.strip() or None
    return None


def device_of(headers: dict[bytes, str], secret: str) -> DeviceCookie | None:
    """The device a request names by a cookie this server signed; None for no cookie, or one it did
    not sign (made up, edited, expired): that counts as no cookie."""
    return verify_device_cookie(secret, cookie_value(headers))


def device_id(headers: dict[bytes, str], secret: str) -> str | None:
    device = device_of(headers, secret)
    return device.id if device else None


def sender_of(request: Request, respond: RespondService, headers: dict[bytes, str] | None = None) -> Sender:
    headers = sender_headers(request.scope) if headers is None else headers
    device = device_of(headers, respond.settings.secret)
    hints = "|".join(headers.get(name, "") for name in HINT_HEADERS)
    peer = request.scope.get("client")  # (host, port), as Request.client reads it, without its Address
    return Sender(
        device_id=device.id if device else None,
        device_issued=device.issued if device else None,
        address=client_address(peer[0] if peer else None, headers.get(b"x-forwarded-for"), respond.trusted_proxies),
        agent=headers.get(b"user-agent"),
        language=headers.get(b"accept-language"),
        hints=hints if hints != "||" else None,
    )


def form_device(request: Request, respond: RespondService) -> tuple[str, dict[str, str]]:
    """The device a form is issued to (its nonce is bound to it), and the headers that set its cookie:
    none when the browser sent a valid one; else a new signed one (a random id and its issue time)."""
    device = device_of(sender_headers(request.scope), respond.settings.secret)
    if device is not None:
        return device.id, {}
    value, new_id = new_device_cookie(respond.settings.secret)
    return new_id, {
        "set-cookie": device_cookie_header(value, secure=respond.settings.public_url.startswith("https://"))
    }


def device_cookie_header(value: str, secure: bool) -> str:
    """The device cookie's Set-Cookie value, written out as Litestar's Cookie writes it (which took a
    quarter of the answer page's CPU: it deep-copies a dataclass per cookie). The value needs no
    quoting: URL-safe base64, hex and dots."""
    cookie = f"{DEVICE_COOKIE}={value}; HttpOnly; Max-Age={DEVICE_COOKIE_MAX_AGE}; Path=/; SameSite=lax"
    return cookie + "; Secure" if secure else cookie
