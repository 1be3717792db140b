"""Who sent a request, as the respondent's routes read it: the headers an answer needs, straight
from the ASGI scope, the device cookie, and the network address through our own proxies only."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import Cookie
from litestar.types import Scope

from survey_service.core.network import client_address
from survey_service.respond.service import RespondService, Sender
from survey_service.respond.signals import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE, new_device_id

SENDER_HEADERS = frozenset({b"content-length", b"content-type", b"cookie", b"host", b"user-agent", b"x-forwarded-for"})


def sender_headers(scope: Scope) -> dict[bytes, str]:
    """The first value of each header an answer post reads, straight from the ASGI scope: Litestar's
    Headers and cookie parsing took about 7% of the route's CPU (py-spy, bench/answer_path.py)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in SENDER_HEADERS and name not in found:
            found[name] = value.decode("latin-1")
    return found


def device_id(headers: dict[bytes, str]) -> str | None:
    """The device cookie's value (a random id we set; never quoted), if the browser sent one."""
    for part in headers.get(b"cookie", "").split(";"):
        key, _, value = part.partition("=")
        if key.strip() == DEVICE_COOKIE:
            return value.strip() or None
    return None


def sender_of(request: Request, respond: RespondService, headers: dict[bytes, str] | None = None) -> Sender:
    headers = sender_headers(request.scope) if headers is None else headers
    return Sender(
        device_id=device_id(headers),
        address=client_address(
            request.client.host if request.client else None, headers.get(b"x-forwarded-for"), respond.trusted_proxies
        ),
        agent=headers.get(b"user-agent"),
    )


def device_cookie(request: Request, respond: RespondService) -> list[Cookie]:
    """A first-party cookie naming this device (a random id, nothing else), set once."""
    if device_id(sender_headers(request.scope)):
        return []
    return [
        Cookie(
            key=DEVICE_COOKIE,
            value=new_device_id(),
            max_age=DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=respond.settings.public_url.startswith("https://"),
        )
    ]
