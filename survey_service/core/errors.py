"""The one exception hierarchy of the service; each carries its HTTP status and a Chinese message."""

from __future__ import annotations


class SurveyServiceError(Exception):
    status_code = 400
    code = "bad_request"
    message = "请求无效。"

    def __init__(self, message: str | None = None, *, errors: dict[str, str] | None = None):
        self.message = message or self.message
        # {field path: message} for answer-level problems.
        self.errors = errors or {}
        super().__init__(self.message)


class NotFound(SurveyServiceError):
    status_code = 404
    code = "not_found"
    message = "找不到该页面。"


class LinkNotFound(NotFound):
    code = "unknown_link"
    message = "找不到这份问卷。请检查二维码或链接是否完整，或联系发放问卷的学校。"


class SurveyNotOpen(SurveyServiceError):
    status_code = 403
    code = "survey_not_open"


class InvalidAnswers(SurveyServiceError):
    status_code = 422
    code = "invalid_answers"
    message = "问卷还有题目需要填写或修改，请查看标红的题目。"


class InvalidForm(SurveyServiceError):
    status_code = 400
    code = "invalid_form"
    message = "表单内容无效，请重新打开链接填写。"


class ExpiredForm(InvalidForm):
    code = "expired_form"
    message = "页面已过期或表单无效，请重新打开链接填写。"


class DuplicateSubmission(SurveyServiceError):
    status_code = 409
    code = "duplicate_submission"
    message = "这份问卷已经提交过，重复提交未被保存。"


class UnsupportedMediaType(SurveyServiceError):
    status_code = 415
    code = "unsupported_media_type"
    message = "不支持的提交格式。"


class Conflict(SurveyServiceError):
    status_code = 409
    code = "conflict"
    message = "操作与现有数据冲突。"


class TooManyRequests(SurveyServiceError):
    status_code = 429
    code = "too_many_requests"
    message = "提交过于频繁，请稍后再试。"


class StorageUnavailable(SurveyServiceError):
    status_code = 503
    code = "storage_unavailable"
    message = "服务器暂时无法确认答卷已保存。请稍等片刻后重新提交；如果已经保存，页面会提示您已提交过。"
