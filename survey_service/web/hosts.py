"""A Host header no URL can be made of (a port beyond 65535 or not a number, an unclosed IPv6
bracket) is a 400 before routing.

Litestar's router refuses a Host header with characters no authority has, but not these: it routes
the request, and the first `request.url` (an error page, a redirect, a file's name) raised
ValueError, a 500. The app refuses them itself (SurveyApp.__call__), with the same 400 page."""

from __future__ import annotations

import re

from litestar import Litestar, Request
from litestar.datastructures import URL
from litestar.exceptions import ClientException
from litestar.types import Message, Receive, Scope, Send

from survey_service.web.errors import http_error

# A Host header of ASCII without brackets, with at most a port of digits: parsed as a URL it fails
# only on a port beyond MAX_PORT (checking it here spares a URL per request, about 2 µs).
PLAIN_HOST = re.compile(rb"[\x00-\x39\x3b-\x5a\x5c\x5e-\x7f]*(?::([0-9]{1,5}))?")
MAX_PORT = 65535


def impossible_host(scope: Scope) -> bool:
    """Whether the request's Host header (and the ASGI server's address) make no URL."""
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    if (plain := PLAIN_HOST.fullmatch(host)) is not None and int(plain[1] or 0) <= MAX_PORT:
        return False  # a name alone, or with a port that is a port: nothing in it can fail to parse
    try:
        URL.from_scope(scope)
    except ValueError:
        return True
    return False


async def refuse_host(app: Litestar, scope: Scope, receive: Receive, send: Send) -> None:
    """400, the app's error page (through its before-send hooks: the security headers)."""
    scope["app"] = scope["litestar_app"] = app  # as Litestar.__call__ sets them
    scope.setdefault("state", {})
    scope.setdefault("path_params", {})

    async def hooked(message: Message) -> None:
        for hook in app.before_send:
            await hook(message, scope)
        await send(message)

    request: Request = Request(scope, receive, hooked)
    response = http_error(request, ClientException("Invalid host header"))
    await response.to_asgi_response(app=None, request=request)(scope, receive, hooked)
