"""The answer page (GET /s/{token}), answered before Litestar routes it, as the answer post is.

A phone's visit is this page and its post. Once the page was rendered once per link and language
(public/form_page.py), Litestar's routing, query and path parameters, signature model and
exception middleware were half of the page's CPU in the web worker (cProfile, in-process; the
same machinery costs a constant post about 30 µs against 4 µs before routing: bench/post_routes.py).
So the app takes this one request itself, as public/answer_post.py takes the post (that module
says what such a request skips, and why the app sets none of it), through the same `show_form` as
the route handler, the app's exception handlers and its before-send hooks (the security headers).

Anything else, a path with a trailing slash, a root path, a Host header the router refuses, goes
through Litestar to the route handler in answer_page.py.
"""

from __future__ import annotations

import re

from litestar import Litestar, Request
from litestar.exceptions import ValidationException
from litestar.types import Receive, Scope, Send

from survey_service.public.answer_page import show_form
from survey_service.public.answer_post import error_response, is_valid_host, link_token, with_hooks

# `again` is a count: what the route handler's int parameter takes (any other value a 400 there too).
COUNT = re.compile(r"[+-]?[0-9]{1,9}")


def form_get(scope: Scope) -> str | None:
    """The token of a GET of an answer page; None for any other request."""
    if (token := link_token(scope, "GET")) is None:
        return None
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    if host is not None and not is_valid_host(host.decode("latin-1")):
        return None  # Litestar's router refuses it (400)
    return token


async def get_form(app: Litestar, token: str, scope: Scope, receive: Receive, send: Send) -> None:
    scope["app"] = scope["litestar_app"] = app  # as Litestar.__call__ sets them
    scope.setdefault("state", {})
    scope["path_params"] = {"token": token}
    send = with_hooks(app, scope, send)
    request: Request = Request(scope, receive, send)
    try:
        query = request.query_params
        again = query.get("again")
        if again is not None and not COUNT.fullmatch(again):
            raise ValidationException(f"Validation failed for GET {scope['path']}")
        response = await show_form(request, token, query.get("lang"), int(again or 0))
    except Exception as exc:
        response = error_response(app, request, exc)
    await response(scope, receive, send)
