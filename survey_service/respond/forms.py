"""Read an ordinary HTML form post (urlencoded or multipart) into {field: value}."""

from __future__ import annotations

from urllib.parse import parse_qsl

from litestar import Request

from survey_service.errors import InvalidAnswers, InvalidForm, UnsupportedMediaType

MAX_FIELDS = 200
ONE_ANSWER = "每题只能选择一个答案。"


async def read_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        body = await request.body()
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidForm() from exc
    elif media_type == "multipart/form-data":
        form = await request.form()
        pairs = list(form.multi_items())
        if len(pairs) > MAX_FIELDS or not all(isinstance(value, str) for _, value in pairs):
            raise InvalidForm()
    else:
        raise UnsupportedMediaType("请通过问卷页面提交答卷。")
    fields: dict[str, str] = {}
    repeated: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            repeated[key] = ONE_ANSWER
        fields[key] = value
    if repeated:
        raise InvalidAnswers(errors=repeated)
    return fields
