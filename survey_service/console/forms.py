"""Read a console form post (urlencoded or multipart) into text fields and uploaded files."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from litestar import Request
from litestar.datastructures import UploadFile

from survey_service.core.errors import InvalidForm

MAX_FIELDS = 200
NOT_TEXT = "表单内容含有无法识别的字符（须为 UTF-8 文本，不含 NUL），本次操作没有生效。请检查后重新提交。"


class UploadedFile:
    def __init__(self, filename: str, content: bytes):
        self.filename = filename
        self.content = content


async def _form_pairs(request: Request) -> list[tuple[str, object]]:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise InvalidForm("请通过页面上的表单提交。")
    if media_type == "application/x-www-form-urlencoded" and not _utf8(await request.body()):
        raise InvalidForm(NOT_TEXT)  # Litestar would read each such byte as U+FFFD
    try:
        form = await request.form()
    except (ValueError, LookupError) as exc:  # a multipart field not UTF-8, or in a charset no codec has
        raise InvalidForm(NOT_TEXT) from exc
    pairs = list(form.multi_items())
    if len(pairs) > MAX_FIELDS:
        raise InvalidForm("表单字段过多。")
    # A NUL is in no text a person types; PostgreSQL refuses to store one.
    if any("\x00" in key or (isinstance(value, str) and "\x00" in value) for key, value in pairs):
        raise InvalidForm(NOT_TEXT)
    return pairs


def _utf8(body: bytes) -> bool:
    """Whether an urlencoded body is UTF-8 once percent-decoded (as browsers send it)."""
    try:
        unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def read_console_lists(request: Request) -> dict[str, list[str]]:
    """A form post's text fields with every value of a repeated field (ticked checkboxes)."""
    fields: dict[str, list[str]] = {}
    for key, value in await _form_pairs(request):
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    return fields


async def read_console_form(request: Request) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    pairs = await _form_pairs(request)
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for key, value in pairs:
        if isinstance(value, UploadFile):
            files[key] = UploadedFile(value.filename or "", await value.read())
        elif isinstance(value, str):
            fields[key] = value
    return fields, files
