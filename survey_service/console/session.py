"""Sessions, CSRF and the console's error pages, as the console's routers use them."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.types import ExceptionHandlersMap

from survey_service.accounts.errors import LoginRequired
from survey_service.core.errors import SurveyServiceError
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
    session and carries its own signed nonce."""
    return [session_config(settings).middleware, DefineMiddleware(CSRFMiddleware, config=csrf_config(settings))]


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
