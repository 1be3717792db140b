"""Sessions, CSRF and the console's error pages, as the console's routers use them."""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.types import ASGIApp, ExceptionHandlersMap, Receive, Scope, Send

from survey_service.accounts.errors import LoginRequired
from survey_service.console.forms import NOT_TEXT
from survey_service.core.errors import InvalidForm, SurveyServiceError
from survey_service.core.settings import Settings
from survey_service.web.errors import HTTP_MESSAGES, http_error

SESSION_HOURS = 12
CSRF_FAILED = "页面已过期或表单来源无法验证（安全校验未通过），本次操作没有生效。请返回上一页，刷新后重新提交。"


def _derived_secret(settings: Settings, purpose: str) -> str:
    return hmac.new(settings.secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def session_config(settings: Settings) -> ServerSideSessionConfig:
    return ServerSideSessionConfig(
        key="console_session",
        max_age=SESSION_HOURS * 3600,
        renew_on_access=True,
        secure=settings.public_url.startswith("https://"),
        samesite="lax",
        httponly=True,
        store="sessions",
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=_derived_secret(settings, "csrf"),
        cookie_name="console_csrf",
        cookie_secure=settings.public_url.startswith("https://"),
        cookie_httponly=True,
    )


def account_middleware(settings: Settings) -> list[DefineMiddleware]:
    """Sessions, then CSRF on every unsafe request: only on the routers of signed-in users (the
    console and the results API). The respondent's path never passes through them: it has no
    session and carries its own signed nonce. Before both, a console cookie of the wrong shape is
    dropped (plain_console_cookies)."""
    return [
        DefineMiddleware(plain_console_cookies),
        session_config(settings).middleware,
        DefineMiddleware(unreadable_form_refused),
        DefineMiddleware(CSRFMiddleware, config=csrf_config(settings)),
    ]


def unreadable_form_refused(app: ASGIApp) -> ASGIApp:
    """Middleware around CSRF, which reads a posted form for its token before any handler: a
    multipart field that is not UTF-8 (UnicodeDecodeError), or in a charset no codec has
    (LookupError), is a 400 there, not a 500; a token with a character beyond ASCII (which
    hmac.compare_digest refuses with TypeError) is a failed CSRF check, a 403. (A handler's own
    errors never reach it: Litestar answers them inside, with the route's exception handlers.)"""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidForm(NOT_TEXT) from exc
        except TypeError as exc:
            raise PermissionDeniedException(detail="CSRF token verification failed") from exc

    return middleware


# What the console's own cookies hold: hex (the session id, secrets.token_hex; the CSRF token).
CONSOLE_COOKIES = (b"console_session", b"console_csrf")
PLAIN_COOKIE = re.compile(rb"[0-9a-f]{1,256}")


def plain_console_cookies(app: ASGIApp) -> ASGIApp:
    """Middleware: a console_session or console_csrf cookie that is not hex (a NUL, 中文, 5,000
    characters) is dropped before sessions and CSRF read it. The session id would otherwise be
    looked up, stored and sent back as it came, and a character beyond latin-1 in it raised
    UnicodeEncodeError on the way out: a 500 instead of the login page."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", [])
        if any(name == b"cookie" and b"console_" in value for name, value in headers):
            scope["headers"] = [(name, plain_cookies(value) if name == b"cookie" else value) for name, value in headers]
        await app(scope, receive, send)

    return middleware


def plain_cookies(header: bytes) -> bytes:
    """A Cookie header without the console cookies whose value is not hex."""
    kept = []
    for pair in header.split(b";"):
        name, _, value = pair.strip().partition(b"=")
        if name.strip() in CONSOLE_COOKIES and PLAIN_COOKIE.fullmatch(value.strip().strip(b'"')) is None:
            continue
        kept.append(pair.strip())
    return b"; ".join(kept)


def login_redirect(request: Request, exc: LoginRequired) -> Response:
    """Anonymous visitors of a console page go to the login page, and come back after it."""
    target = request.url.path if request.method == "GET" else "/console"
    return Response(b"", status_code=303, headers={"location": f"/console/login?next={quote(target)}"})


def _page(request: Request, status: int, message: str) -> Response:
    engine = request.app.template_engine
    assert engine is not None, "create_app configures the template engine"
    html = engine.get_template("console/error.html").render(status=status, message=message)
    return Response(content=html, status_code=status, media_type=MediaType.HTML)


def console_service_error(request: Request, exc: SurveyServiceError) -> Response:
    return _page(request, exc.status_code, exc.message)


def console_http_error(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return _page(request, 403, CSRF_FAILED)
    if exc.status_code >= 500:
        return http_error(request, exc)
    return _page(request, exc.status_code, HTTP_MESSAGES.get(exc.status_code, ("", "请求无效。"))[1])


CONSOLE_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    LoginRequired: login_redirect,
    SurveyServiceError: console_service_error,
    HTTPException: console_http_error,
}
