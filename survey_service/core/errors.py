"""The one exception hierarchy of the service; each carries its HTTP status and a Chinese message."""

from __future__ import annotations

# Each status's one code and Chinese message: what an error of that status says unless it knows more
# (a subclass's own message, such as LinkNotFound's). web/errors.py answers Litestar's own HTTP
# errors (a malformed body, an unknown route, a wrong method) with the same table.
STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("invalid_body", "提交的数据格式不正确。"),
    401: ("unauthorized", "请先登录。"),
    403: ("forbidden", "没有权限访问此页面。"),
    404: ("not_found", "找不到该页面，请检查链接是否完整。"),
    405: ("method_not_allowed", "不支持该操作。"),
    409: ("conflict", "操作与现有数据冲突。"),
    413: ("too_large", "提交的内容过大。"),
    415: ("unsupported_media_type", "不支持的提交格式。"),
    422: ("invalid_answers", "问卷还有题目需要填写或修改，请查看标红的题目。"),
    429: ("too_many_requests", "提交过于频繁，请稍后再试。"),
    500: ("server_error", "服务器暂时无法处理，请稍后再试。您的答卷未保存，请重新提交。"),
    503: (
        "storage_unavailable",
        "系统繁忙，您的答卷暂未保存，请稍等一两分钟后再提交。如果其实已经保存，再次提交时页面会提示您已提交过。",
    ),
}


class SurveyServiceError(Exception):
    status_code = 400
    code, message = STATUS_MESSAGES[400]
    # `errors` keys that are fields of the submission (as the JSON API names them), not answer items.
    top_level_fields: frozenset[str] = frozenset()

    def __init__(self, message: str | None = None, *, errors: dict[str, str] | None = None):
        self.message = message or self.message
        # {field path: message} for answer-level problems.
        self.errors = errors or {}
        super().__init__(self.message)


class NotFound(SurveyServiceError):
    status_code = 404
    code, message = STATUS_MESSAGES[404]


class LinkNotFound(NotFound):
    code = "unknown_link"
    message = "找不到这份问卷。请检查二维码或链接是否完整，或联系发放问卷的学校。"


class SurveyNotOpen(SurveyServiceError):
    status_code = 403
    code = "survey_not_open"
    heading = "暂时无法填写"  # the answer page's title for it


class SurveyNotStarted(SurveyNotOpen):
    heading = "本次调查尚未开始"


class SurveyEnded(SurveyNotOpen):
    heading = "本次调查已结束"


class InvalidAnswers(SurveyServiceError):
    status_code = 422
    code, message = STATUS_MESSAGES[422]


class InvalidAccessCode(InvalidAnswers):
    """The one-time access code (访问码) of a group that needs one is missing, unknown, of another
    link, voided or used: nothing was stored. `errors` names the code field (and any answer problems)."""

    code = "invalid_access_code"
    message = "访问码无效，答卷未保存。请查看访问码一栏的提示。"
    # Error keys that name a field of the submission itself, not an item of its answers.
    top_level_fields = frozenset({"access_code"})


class InvalidForm(SurveyServiceError):
    status_code = 400
    code = "invalid_form"
    message = "表单内容无效，请重新打开链接填写。"


class InvalidJson(SurveyServiceError):
    """A JSON body that is not UTF-8, not JSON, or nested deeper than any request of the service."""

    status_code = 400
    code = "invalid_body"  # as any malformed body (the API's clients read the code)
    message = "提交的内容不是有效的 JSON（须为 UTF-8 编码，嵌套不超过 16 层）。"


class ExpiredForm(InvalidForm):
    code = "expired_form"
    message = "页面已过期或表单无效，请重新打开链接填写。"


class DuplicateSubmission(SurveyServiceError):
    status_code = 409
    code = "duplicate_submission"
    message = "这份问卷已经提交过，重复提交未被保存。"


class RoundSealed(SurveyServiceError):
    """Answers from elsewhere (问卷星, paper) cannot be added: the round has closed and its results
    were exported for the inspection file."""

    status_code = 409
    code = "round_sealed"
    message = "本轮结果已导出为迎检材料，不能再添加答卷。"


class UnsupportedMediaType(SurveyServiceError):
    status_code = 415
    code, message = STATUS_MESSAGES[415]


class Conflict(SurveyServiceError):
    status_code = 409
    code, message = STATUS_MESSAGES[409]


class TooManyRequests(SurveyServiceError):
    status_code = 429
    code, message = STATUS_MESSAGES[429]


class StorageUnavailable(SurveyServiceError):
    """Answers cannot be committed now (the database read-only, the disk full, the writer process
    gone): nothing was acknowledged, the sender retries later (503 with Retry-After)."""

    status_code = 503
    code, message = STATUS_MESSAGES[503]
    heading = "系统繁忙"
    retry_after = 30  # seconds, the Retry-After header of the 503

    def __init__(self, message: str | None = None, *, reason: str = "the database cannot be written"):
        super().__init__(message)
        # What stops the writes, in English for the log and /readyz (one condition, one reason).
        self.reason = reason
