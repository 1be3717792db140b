"""Map every error to a response: structured JSON under /api, a Chinese page elsewhere. No stack traces."""

from __future__ import annotations

import logging

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from survey_service.core.errors import STATUS_MESSAGES, SurveyServiceError

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
    if request.url.path.startswith("/api/"):
        return Response(content=body, status_code=body.status, media_type=MediaType.JSON, headers=headers)
    engine = request.app.template_engine
    assert engine is not None, "create_app configures the template engine"
    template = engine.get_template("error.html")
    html = template.render(status=body.status, message=body.message, errors=body.errors, heading=heading)
    return Response(content=html, status_code=body.status, media_type=MediaType.HTML, headers=headers)


def service_error(request: Request, exc: SurveyServiceError) -> Response:
    errors = [FieldError(field=f"answers.{key}", message=msg) for key, msg in exc.errors.items()]
    body = ErrorBody(status=exc.status_code, code=exc.code, message=exc.message, errors=errors)
    return _respond(request, body, heading=getattr(exc, "heading", None))


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
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    code, message = SERVER_ERROR
    return _respond(request, ErrorBody(status=500, code=code, message=message))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SurveyServiceError: service_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: server_error,
}
