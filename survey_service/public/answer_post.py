"""The answer form's post (POST /s/{token}, urlencoded), answered before Litestar routes it.

This is the one hot route of the service: every answer a phone sends. Under load, Litestar's
routing, its Request and headers objects, the handler's signature model and its exception
middleware took about a third of the web worker's CPU on it (py-spy, bench/answer_path.py), for a
route that needs none of them: no guards, no dependencies, no middleware, no parameters but the
token. So the app takes this one kind of request itself and does, for it, what that machinery
does and nothing more:

- the body is read within the app's size limit (413 beyond it);
- it is answered by the same `answer` function as the route handler;
- an error is answered by the app's own exception handlers (the same Chinese pages);
- every message goes out through the app's before-send hooks (the security headers).

Anything else, an answer post in another encoding (multipart) or with a Host header the router
would refuse included, goes through Litestar as usual, to the route handler in answer_page.py.

Public API only: the two rules of Litestar's we follow here (which Host headers its router refuses,
which exception handler its exception middleware picks) live in private modules of Litestar, so
they are written out below, each from Litestar's documented behaviour.

What this route therefore does not get: middleware, guards and before/after-request hooks set on
the app. The app has none of them (tests/public/test_answer_page.py checks, so that adding one is a
conscious choice).
"""

from __future__ import annotations

import math
import re
from inspect import getmro

from litestar import Litestar, Request
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, HTTPException, InternalServerException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, ExceptionHandler, ExceptionHandlersMap, Message, Receive, Scope, Send

from survey_service.public.answer_page import answer
from survey_service.public.forms import URLENCODED, form_fields, urlencoded_pairs
from survey_service.public.sender import sender_headers

PREFIX = "/s/"

# A Host header Litestar's router accepts (any other gets a 400 before routing): nothing but the
# characters RFC 3986 allows in an authority (unreserved, sub-delims, ":", "[", "]", "@", "%"). The
# same character set as the router's (litestar/_asgi/utils.py), so that both refuse the same hosts;
# tests/public/test_answer_page.py checks them side by side.
VALID_HOST = re.compile(r"\A[0-9A-Za-z!$&'()*+,;=\-._~:\[\]@%]*\Z")


def is_valid_host(host: str) -> bool:
    """Whether Litestar's router would route a request with this Host header (decoded as latin-1)."""
    return VALID_HOST.match(host) is not None


def link_token(scope: Scope, method: str) -> str | None:
    """The token of a `method` request to /s/{token} (not under a mounted root path); None for any other."""
    if scope["type"] != ScopeType.HTTP or scope["method"] != method or scope.get("root_path"):
        return None
    path = scope["path"]
    token = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
    return token if token and "/" not in token else None


def answer_post(scope: Scope) -> tuple[str, dict[bytes, str]] | None:
    """(token, the headers an answer reads) of an urlencoded POST to /s/{token}; None for any other
    request."""
    if (token := link_token(scope, "POST")) is None:
        return None
    headers = sender_headers(scope)
    if headers.get(b"content-type", "").partition(";")[0].strip().lower() != URLENCODED:
        return None
    if (host := headers.get(b"host")) is not None and not is_valid_host(host):
        return None  # Litestar's router refuses it (400)
    return token, headers


async def post_answer(
    app: Litestar, token: str, headers: dict[bytes, str], scope: Scope, receive: Receive, send: Send
) -> None:
    scope["app"] = scope["litestar_app"] = app  # as Litestar.__call__ sets them
    scope.setdefault("state", {})
    scope["path_params"] = {"token": token}
    send = with_hooks(app, scope, send)
    request: Request = Request(scope, receive, send)
    try:
        limit = app.request_max_body_size  # an int or None on the app (EmptyType: "as the app" on a layer below)
        body = await read_body(receive, headers.get(b"content-length"), limit if isinstance(limit, int) else None)
        response = await answer(request, token, headers, form_fields(urlencoded_pairs(body)))
    except Exception as exc:
        response = error_response(app, request, exc)
    await response(scope, receive, send)


async def read_body(receive: Receive, announced: str | None, limit: int | None) -> bytes:
    """The whole body, refused (413) once it is, or says it will be, over `limit` bytes; as
    Litestar's Request.body() reads it."""
    bound = limit or math.inf
    try:
        if announced is not None and int(announced) > bound:
            raise RequestEntityTooLarge()
    except ValueError:
        raise ClientException(f"Invalid content-length: {announced!r}") from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # "http.disconnect", the one other message of an HTTP request
            raise InternalServerException("client disconnected prematurely")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > bound:
            raise RequestEntityTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def with_hooks(app: Litestar, scope: Scope, send: Send) -> Send:
    """`send` through the app's before-send hooks, as Litestar sends every response."""

    async def hooked(message: Message) -> None:
        for hook in app.before_send:
            await hook(message, scope)
        await send(message)

    return hooked


def error_response(app: Litestar, request: Request, exc: Exception) -> ASGIApp:
    """The app's exception handler for `exc`, chosen as Litestar's exception middleware chooses it
    (status code, then the nearest class; the app names Exception itself: web/errors.py), as an ASGI app."""
    handler = exception_handler(app.exception_handlers, exc)
    if handler is None:
        raise exc
    return handler(request, exc).to_asgi_response(app=None, request=request)


def exception_handler(handlers: ExceptionHandlersMap, exc: Exception) -> ExceptionHandler | None:
    """The handler Litestar's exception middleware picks for `exc`, by the rule its documentation
    gives (usage/exceptions, "Exception handling"): an HTTPException's status code first, then the
    nearest class in the exception's MRO; any other exception falls back on a 500 handler."""
    fallback = None
    if isinstance(exc, HTTPException):
        if (by_status := handlers.get(exc.status_code)) is not None:
            return by_status
    else:
        fallback = handlers.get(HTTP_500_INTERNAL_SERVER_ERROR)
    for cls in getmro(type(exc)):
        if (by_class := handlers.get(cls)) is not None:
            return by_class
    return fallback
