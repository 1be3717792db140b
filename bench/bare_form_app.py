"""The yardstick of a whole visit: a bare Litestar app serving a constant answer form and answering its
post with a 303, no database, served the same way as the product (bench/visit.py).

The form has the parents' questionnaire's items (bench/visit.py passes how many rated and free-text
items in BARE_FORM_ITEMS, "13,1"), each rated item's five options, and one hidden field; no style,
no script. Built once at import.
"""

import os

from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.status_codes import HTTP_303_SEE_OTHER

OPTIONS = [
    ("satisfied", "满意"),
    ("fairly_satisfied", "比较满意"),
    ("basically_satisfied", "基本满意"),
    ("dissatisfied", "不满意"),
    ("unknown", "不了解"),
]


def form_page(rated: int, free: int) -> bytes:
    items = []
    for number in range(1, rated + 1):
        radios = "".join(
            f'<label><input type="radio" name="q{number}" value="{code}"{" required" if i == 0 else ""}>{label}</label>'
            for i, (code, label) in enumerate(OPTIONS)
        )
        items.append(
            f"<fieldset><legend>{number}. 您对本县义务教育第 {number} 方面的情况是否满意？</legend>{radios}</fieldset>"
        )
    for number in range(rated + 1, rated + free + 1):
        items.append(
            f'<fieldset><legend>{number}. 您的意见建议</legend><textarea name="q{number}" maxlength="500"></textarea></fieldset>'
        )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>社会认可度调查</title></head>'
        '<body><main><h1>社会认可度调查问卷</h1><form method="post" action="/form">'
        '<input type="hidden" name="_nonce" value="0123456789abcdef0123456789abcdef0123456789abcdef012345678">'
        + "\n".join(items)
        + '<button type="submit">提交问卷</button></form></main></body></html>'
    ).encode()


RATED, FREE = (int(n) for n in os.environ.get("BARE_FORM_ITEMS", "13,1").split(","))
PAGE = form_page(RATED, FREE)


@get("/form", media_type=MediaType.HTML)
async def form() -> bytes:
    return PAGE


@post("/form")
async def submit(request: Request) -> Response[None]:
    await request.body()
    return Response(None, status_code=HTTP_303_SEE_OTHER, headers={"location": "/thanks"})


@get("/healthz", media_type=MediaType.TEXT)
async def healthz() -> str:
    return "ok"


app = Litestar(route_handlers=[form, submit, healthz])
