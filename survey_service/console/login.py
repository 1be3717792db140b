"""Login and logout of the console. Thin: read the form, call the accounts service, answer."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Response, Template

from survey_service.accounts.errors import LoginFailed, LoginLocked
from survey_service.accounts.service import authenticate
from survey_service.console.forms import read_console_form
from survey_service.console.guards import USER_SESSION_KEY, signed_in_user
from survey_service.core.network import client_address, parse_networks
from survey_service.core.settings import Settings
from survey_service.web.responses import see_other

SESSION_COOKIE = "console_session"


def safe_next(target: str | None) -> str:
    """Only back into the console: never an address elsewhere (an open redirect)."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


class LoginController(Controller):
    path = "/"
    include_in_schema = False

    @get("/login")
    async def login_page(self, request: Request, next: FromQuery[str | None] = None) -> Template | Redirect:
        if await signed_in_user(request) is not None:
            return Redirect(safe_next(next), status_code=303)
        return Template("console/login.html", context={"next": safe_next(next), "username": "", "error": None})

    @post("/login", status_code=303)
    async def login(self, request: Request, settings: NamedDependency[Settings]) -> Response | Template:
        fields, _ = await read_console_form(request)
        username = fields.get("username", "").strip()
        # Behind our own reverse proxy every login would otherwise share the proxy's address.
        peer = request.client.host if request.client else None
        address = (
            client_address(peer, request.headers.get("x-forwarded-for"), parse_networks(settings.trusted_proxies))
            or "unknown"
        )
        try:
            user = await authenticate(username, fields.get("password", ""), address)
        except (LoginFailed, LoginLocked) as exc:
            context = {"next": safe_next(fields.get("next")), "username": username, "error": exc.message}
            return Template("console/login.html", context=context, status_code=exc.status_code)
        # A fresh session id on every login: an id planted before it (session fixation) opens nothing.
        old = request.cookies.pop(SESSION_COOKIE, None)
        if old:
            await request.app.stores.get("sessions").delete(old)
        request.clear_session()
        request.set_session({USER_SESSION_KEY: user.id})
        return see_other(safe_next(fields.get("next")))

    @post("/logout", status_code=303)
    async def logout(self, request: Request) -> Response:
        request.clear_session()
        return see_other("/console/login")
