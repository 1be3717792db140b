"""Who may open a console route: guards that load the signed-in account once per request."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from survey_service.accounts.errors import Forbidden, LoginRequired
from survey_service.accounts.schemas import CurrentUser
from survey_service.accounts.service import find_user

USER_SESSION_KEY = "user_id"
_SCOPE_KEY = "console_user"


async def signed_in_user(connection: ASGIConnection) -> CurrentUser | None:
    if _SCOPE_KEY not in connection.scope:
        # The server-side session is a dict; absent, or Empty once cleared, it names no one.
        session = connection.scope.get("session")
        user_id = session.get(USER_SESSION_KEY) if isinstance(session, dict) else None
        connection.scope[_SCOPE_KEY] = await find_user(user_id)  # type: ignore[literal-required]
    return connection.scope[_SCOPE_KEY]  # type: ignore[literal-required]


async def requires_login(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if await signed_in_user(connection) is None:
        raise LoginRequired()


async def requires_bureau(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    user = await signed_in_user(connection)
    if user is None:
        raise LoginRequired()
    if not user.is_bureau:
        raise Forbidden("没有权限：此功能仅限教育局账号使用。")


async def requires_school_access(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Routes with a {school_code} path parameter: the bureau, or that school's own operator."""
    user = await signed_in_user(connection)
    if user is None:
        raise LoginRequired()
    if not user.may_see_school(connection.path_params.get("school_code")):
        raise Forbidden()


async def provide_user(request: ASGIConnection) -> CurrentUser:
    """The signed-in account, for handlers behind one of the guards above."""
    user = await signed_in_user(request)
    if user is None:
        raise LoginRequired()
    return user
