"""Small response helpers shared by the respondent pages and the console."""

from __future__ import annotations

from litestar import Response


def see_other(location: str) -> Response:
    """A 303 to `location`: after a form post, a reload does not post again. A plain response:
    Litestar's Redirect costs about 5% of the answer path's time under load."""
    return Response(b"", status_code=303, headers={"location": location})
