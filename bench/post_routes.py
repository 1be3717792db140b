"""What Litestar costs the answer post by the way it is reached: answered before routing (as
survey_service/app.py SurveyApp does), by an `@asgi` route handler, or by a plain `@post` route
handler. Each app answers POST /s/{token} with a constant 303 through the same before-send hook and
builds one Request (as the answer post does); the ASGI apps are driven in-process on uvloop, so the
figures are the framework's CPU per request alone, without the server's HTTP parsing.

    python bench/post_routes.py [--requests 3000] [--repeats 7]

Litestar 2.25 cannot route a path parameter to an `@asgi` handler (`@asgi("/s/{token:str}")`
answers 500: its router looks the parameters up by the HTTP method, which an ASGI route does not
have); a mount (`@asgi("/s", is_mount=True)`) works, and is what is measured, with the token read
from the remaining path.
"""

from __future__ import annotations

import argparse
import statistics
import time

import uvloop
from litestar import Litestar, Request, Response, asgi, post
from litestar.types import Message, Receive, Scope, Send

BODY = b"_nonce=x&moral_education=satisfied&overall=satisfied"


async def see_other(scope: Scope, receive: Receive, send: Send) -> None:
    Request(scope, receive, send)  # the answer post builds one
    await receive()
    await send(
        {"type": "http.response.start", "status": 303, "headers": [(b"location", b"/t"), (b"content-length", b"0")]}
    )
    await send({"type": "http.response.body", "body": b""})


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        message["headers"] = [*message.get("headers", ()), (b"x-content-type-options", b"nosniff")]


class BeforeRouting(Litestar):
    """As SurveyApp: the answer post taken before routing, through the app's before-send hooks."""

    async def __call__(self, scope, receive, send):  # type: ignore[override]
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith("/s/"):

            async def hooked(message: Message) -> None:
                for hook in self.before_send:
                    await hook(message, scope)
                await send(message)

            scope["app"] = scope["litestar_app"] = self
            scope.setdefault("state", {})
            scope["path_params"] = {"token": scope["path"][3:]}
            await see_other(scope, receive, hooked)
        else:
            await super().__call__(scope, receive, send)


@asgi("/s", is_mount=True, copy_scope=False)
async def mounted(scope: Scope, receive: Receive, send: Send) -> None:
    await see_other(scope, receive, send)


@asgi("/s/{token:str}", copy_scope=False)
async def with_parameter(scope: Scope, receive: Receive, send: Send) -> None:
    await see_other(scope, receive, send)


@post("/s/{token:str}", status_code=303)
async def plain_route(request: Request, token: str) -> Response[None]:
    await request.body()
    return Response(None, status_code=303, headers={"location": "/t"})


@post("/other")
async def other() -> None:
    return None


APPS = {
    "before routing (as the product)": BeforeRouting(route_handlers=[other], before_send=[security_headers]),
    "@asgi route handler (mount)": Litestar(route_handlers=[mounted, other], before_send=[security_headers]),
    "plain @post route handler": Litestar(route_handlers=[plain_route, other], before_send=[security_headers]),
}


def scope() -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/s/abcdefghijklmnop",
        "raw_path": b"/s/abcdefghijklmnop",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(BODY)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def main(requests: int, repeats: int) -> None:
    statuses: dict[str, set[int]] = {}

    async def receive() -> dict:
        return {"type": "http.request", "body": BODY, "more_body": False}

    def sender(name: str):
        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.setdefault(name, set()).add(message["status"])

        return send

    probe = Litestar(route_handlers=[with_parameter, other])
    await probe(scope(), receive, sender("@asgi with a path parameter"))
    print(f"@asgi('/s/{{token:str}}') answers {sorted(statuses['@asgi with a path parameter'])} (Litestar 2.25)")
    times: dict[str, list[float]] = {name: [] for name in APPS}
    for _ in range(repeats):
        for name, app in APPS.items():
            send = sender(name)
            started = time.process_time()
            for _ in range(requests):
                await app(scope(), receive, send)
            times[name].append((time.process_time() - started) / requests * 1e6)
    for name, spent in times.items():
        assert statuses[name] == {303}, (name, statuses[name])
        print(f"{name:34} {min(spent):5.1f} µs per request (median {statistics.median(spent):.1f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    uvloop.run(main(args.requests, args.repeats))
