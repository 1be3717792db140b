"""Errors of the console's accounts, in the service's one hierarchy (mapped to pages in web/errors.py and console/session.py)."""

from __future__ import annotations

from survey_service.core.errors import STATUS_MESSAGES, SurveyServiceError


class LoginRequired(SurveyServiceError):
    status_code = 401
    code = "login_required"
    message = STATUS_MESSAGES[401][1]


class Forbidden(SurveyServiceError):
    status_code = 403
    code = "forbidden"
    message = "没有权限访问此页面：您的账号只能查看本校的数据。"


class LoginFailed(SurveyServiceError):
    status_code = 401
    code = "login_failed"
    message = "用户名或密码错误。"


class LoginLocked(SurveyServiceError):
    status_code = 429
    code = "login_locked"
    message = "登录失败次数过多，请稍后再试。"
