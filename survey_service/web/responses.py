"""Small response helpers shared by the respondent pages and the console."""

from __future__ import annotations

from litestar import Response
from litestar.types import Receive, Scope, Send


def see_other(location: str) -> Response:
    """A 303 to `location`: after a form post, a reload does not post again. A plain response:
    Litestar's Redirect costs about 5% of the answer path's time under load."""
    return Response(b"", status_code=303, headers={"location": location})


class SeeOther:
    """The same 303 as an ASGI app, for the answer post, which returns one: building Litestar's
    ASGIResponse took 6% of that route's CPU (py-spy), for two headers. The app's before_send hooks
    (security headers) still apply."""

    __slots__ = ("_headers",)

    def __init__(self, location: str):
        self._headers = [(b"location", location.encode("latin-1")), (b"content-length", b"0")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 303, "headers": self._headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
