"""Read a console form post (urlencoded or multipart) into text fields and uploaded files."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import UploadFile

from survey_service.core.errors import InvalidForm

MAX_FIELDS = 200


class UploadedFile:
    def __init__(self, filename: str, content: bytes):
        self.filename = filename
        self.content = content


async def _form_pairs(request: Request) -> list[tuple[str, object]]:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise InvalidForm("请通过页面上的表单提交。")
    form = await request.form()
    pairs = list(form.multi_items())
    if len(pairs) > MAX_FIELDS:
        raise InvalidForm("表单字段过多。")
    return pairs


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
