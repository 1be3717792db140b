"""Map every error to a response: structured JSON under /api, a Chinese page elsewhere. No stack traces."""

from __future__ import annotations

import errno
import logging

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, InternalServerException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from survey_service.core.errors import STATUS_MESSAGES, InvalidForm, NotFound, SurveyServiceError

log = logging.getLogger(__name__)

# Each status's code and message: the service's own table (core/errors.py), for Litestar's HTTP errors too.
HTTP_MESSAGES = STATUS_MESSAGES
SERVER_ERROR = STATUS_MESSAGES[500]


class FieldError(msgspec.Struct, kw_only=True):
    field: str
    message: str


class ErrorBody(msgspec.Struct, kw_only=True):
    status: int
    code: str
    message: str
    errors: list[FieldError] = []


def error_responses(*statuses: int) -> dict:
    """The OpenAPI `responses` of an API operation: each error status with the ErrorBody shape."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=HTTP_MESSAGES.get(status, ("", "错误"))[1], generate_examples=False
        )
        for status in statuses
    }


def _respond(
    request: Request, body: ErrorBody, headers: dict[str, str] | None = None, heading: str | None = None
) -> Response:
    # The path as the server gave it: request.url would parse the Host header too.
    if request.scope["path"].startswith("/api/"):
        return Response(content=body, status_code=body.status, media_type=MediaType.JSON, headers=headers)
    engine = request.app.template_engine
    assert engine is not None, "create_app configures the template engine"
    template = engine.get_template("error.html")
    html = template.render(status=body.status, message=body.message, errors=body.errors, heading=heading)
    return Response(content=html, status_code=body.status, media_type=MediaType.HTML, headers=headers)


def service_error(request: Request, exc: SurveyServiceError) -> Response:
    errors = [
        FieldError(field=key if key in exc.top_level_fields else f"answers.{key}", message=msg)
        for key, msg in exc.errors.items()
    ]
    body = ErrorBody(status=exc.status_code, code=exc.code, message=exc.message, errors=errors)
    # A 503 (answers cannot be stored now) says when to try again.
    retry = getattr(exc, "retry_after", None)
    headers = {"retry-after": str(retry)} if retry else None
    return _respond(request, body, headers=headers, heading=getattr(exc, "heading", None))


def validation_error(request: Request, exc: ValidationException) -> Response:
    """Litestar's own body validation (msgspec): keep the field path msgspec reports."""
    errors = [
        FieldError(field=str(item.get("key") or "body"), message=str(item.get("message", "")))
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    code, message = HTTP_MESSAGES[400]
    body = ErrorBody(status=400, code=code, message=message, errors=errors)
    return _respond(request, body)


def http_error(request: Request, exc: HTTPException) -> Response:
    code, message = HTTP_MESSAGES.get(exc.status_code, SERVER_ERROR)
    status = exc.status_code if exc.status_code < 500 else 500
    # Keep what the exception says about the protocol, e.g. `Allow` on a 405.
    return _respond(request, ErrorBody(status=status, code=code, message=message), headers=exc.headers)


def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.scope["path"], exc_info=exc)
    code, message = SERVER_ERROR
    return _respond(request, ErrorBody(status=500, code=code, message=message))


# What the file system says of a static file name no file can have.
_NO_SUCH_NAME = (errno.ENAMETOOLONG, errno.EINVAL, errno.ENOENT, errno.ENOTDIR, errno.EILSEQ)


def static_file_error(request: Request, exc: Exception) -> Response:
    """A static file name the file system refuses (a NUL byte, a name too long: Litestar reports the
    OSError as a 500) is a 404; any other failure stays a server error."""
    cause = exc.__cause__ if isinstance(exc, InternalServerException) else exc
    if isinstance(cause, ValueError) or (isinstance(cause, OSError) and cause.errno in _NO_SUCH_NAME):
        code, message = HTTP_MESSAGES[404]
        return _respond(request, ErrorBody(status=404, code=code, message=message))
    return server_error(request, exc)


# The largest id a row can have (a Serial column: a 32-bit integer on PostgreSQL).
MAX_ID = 2**31 - 1


def refuse_impossible_ids(request: Request) -> None:
    """A before_request hook: an integer path parameter no row can have (beyond MAX_ID, or negative),
    or a text one with a NUL (no stored text has one), is a 404 before any query is made of it (the
    database would raise on it: PostgreSQL refuses a NUL in any text); a NUL in a query parameter
    (a filter, a search) is a 400."""
    for value in request.path_params.values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFound()
        if isinstance(value, str) and "\x00" in value:
            raise NotFound()
    if "%00" in request.scope["query_string"].decode("latin-1") and any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    ):
        raise InvalidForm("链接中含有无法识别的字符，请检查后重试。")


STATIC_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    InternalServerException: static_file_error,
    ValueError: static_file_error,
    OSError: static_file_error,
}

EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SurveyServiceError: service_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: server_error,
}
