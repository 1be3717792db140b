"""Map every error to a response: structured JSON under /api, a Chinese page elsewhere. No stack traces."""

from __future__ import annotations

import logging

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from survey_service.core.errors import SurveyServiceError

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: ("invalid_body", "提交的数据格式不正确。"),
    401: ("unauthorized", "请先登录。"),
    403: ("forbidden", "没有权限访问此页面。"),
    404: ("not_found", "找不到该页面，请检查链接是否完整。"),
    405: ("method_not_allowed", "不支持该操作。"),
    409: ("conflict", "与已有数据冲突（例如重复提交）。"),
    413: ("too_large", "提交的内容过大。"),
    415: ("unsupported_media_type", "不支持的提交格式。"),
    422: ("invalid_answers", "答卷内容有误。"),
    429: ("too_many_requests", "提交过于频繁，请稍后再试。"),
    503: ("storage_unavailable", "服务器暂时无法确认答卷已保存，请稍后重新提交。"),
}


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


SERVER_ERROR = ("server_error", "服务器暂时无法处理，请稍后再试。您的答卷未保存，请重新提交。")


def _respond(request: Request, body: ErrorBody, headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return Response(content=body, status_code=body.status, media_type=MediaType.JSON, headers=headers)
    template = request.app.template_engine.get_template("error.html")
    html = template.render(status=body.status, message=body.message, errors=body.errors)
    return Response(content=html, status_code=body.status, media_type=MediaType.HTML, headers=headers)


def service_error(request: Request, exc: SurveyServiceError) -> Response:
    errors = [FieldError(field=f"answers.{key}", message=msg) for key, msg in exc.errors.items()]
    return _respond(request, ErrorBody(status=exc.status_code, code=exc.code, message=exc.message, errors=errors))


def validation_error(request: Request, exc: ValidationException) -> Response:
    """Litestar's own body validation (msgspec): keep the field path msgspec reports."""
    errors = [
        FieldError(field=str(item.get("key") or "body"), message=str(item.get("message", "")))
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    body = ErrorBody(status=400, code="invalid_body", message="提交的数据格式不正确。", errors=errors)
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


EXCEPTION_HANDLERS = {
    SurveyServiceError: service_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: server_error,
}
