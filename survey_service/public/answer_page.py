"""The answer page (/s/{token}) and the JSON API for the same submission. Thin: parse, call, render."""

from __future__ import annotations

from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.response import Response, Template
from litestar.types import ASGIApp, Scope

from survey_service.core.errors import DuplicateSubmission, InvalidAnswers, UnsupportedMediaType
from survey_service.public.forms import read_form
from survey_service.public.schemas import LinkForm, ResponseReceipt, ResponseSubmission
from survey_service.web.errors import error_responses
from survey_service.respond.service import RespondService, Sender
from survey_service.core.network import client_address
from survey_service.respond.signals import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE, new_device_id
from survey_service.public.views import link_form, page_context
from survey_service.web.responses import SeeOther

NONCE_FIELD = "_nonce"
LANG_FIELD = "_lang"


SENDER_HEADERS = frozenset({b"content-length", b"content-type", b"cookie", b"host", b"user-agent", b"x-forwarded-for"})


def sender_headers(scope: Scope) -> dict[bytes, str]:
    """The first value of each header an answer post reads, straight from the ASGI scope: Litestar's
    Headers and cookie parsing took about 7% of the route's CPU (py-spy, bench/answer_path.py)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in SENDER_HEADERS and name not in found:
            found[name] = value.decode("latin-1")
    return found


def device_id(headers: dict[bytes, str]) -> str | None:
    """The device cookie's value (a random id we set; never quoted), if the browser sent one."""
    for part in headers.get(b"cookie", "").split(";"):
        key, _, value = part.partition("=")
        if key.strip() == DEVICE_COOKIE:
            return value.strip() or None
    return None


def sender_of(request: Request, respond: RespondService, headers: dict[bytes, str] | None = None) -> Sender:
    headers = sender_headers(request.scope) if headers is None else headers
    return Sender(
        device_id=device_id(headers),
        address=client_address(request.client.host if request.client else None,
                               headers.get(b"x-forwarded-for"), respond.trusted_proxies),
        agent=headers.get(b"user-agent"),
    )


def device_cookie(request: Request, respond: RespondService) -> list[Cookie]:
    """A first-party cookie naming this device (a random id, nothing else), set once."""
    if device_id(sender_headers(request.scope)):
        return []
    return [
        Cookie(
            key=DEVICE_COOKIE,
            value=new_device_id(),
            max_age=DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=respond.settings.public_url.startswith("https://"),
        )
    ]


async def answer(request: Request, token: str, headers: dict[bytes, str], fields: dict[str, str]) -> ASGIApp:
    """Submit a form's fields; the response as an ASGI app of its own: a 303 to the thank-you page
    (or to its "already submitted" form), or the form again with each problem marked. The body is
    read already: `request` is also built by respond/answer_post.py, without a route handler."""
    respond: RespondService = request.app.state.respond
    nonce = fields.pop(NONCE_FIELD, "")
    lang = fields.pop(LANG_FIELD, "") or None
    try:
        await respond.submit(token, nonce, fields, sender_of(request, respond, headers))
    except DuplicateSubmission:
        return SeeOther(f"/s/{token}/thanks?repeat=1")
    except InvalidAnswers as exc:
        # The same nonce goes back: the form is still the one first opened.
        link = await respond.links.get(token)
        form = link_form(link, respond.questionnaire_for(link), nonce, lang)
        page = Template(
            "respond/form.html",
            context=page_context(form, lang, given=fields, errors=exc.errors),
            status_code=exc.status_code,
        )
        return page.to_asgi_response(app=None, request=request)
    return SeeOther(f"/s/{token}/thanks")


class AnswerPageController(Controller):
    path = "/s"
    include_in_schema = False

    @get("/{token:str}")
    async def show(
        self,
        request: Request,
        token: FromPath[str],
        respond: NamedDependency[RespondService],
        lang: FromQuery[str | None] = None,
    ) -> Template:
        opened = await respond.open_form(token)
        form = link_form(opened.link, opened.questionnaire, opened.nonce, lang)
        return Template(
            "respond/form.html", context=page_context(form, lang), cookies=device_cookie(request, respond)
        )

    @post("/{token:str}", status_code=303)
    async def submit(self, request: Request) -> ASGIApp:
        """The answer post. The app answers an urlencoded post to /s/{token} (what the form sends)
        itself, before routing (respond/answer_post.py), through the same `answer`; this handler
        takes the rest: multipart, a wrong content type (refused), a path with a trailing slash."""
        headers = sender_headers(request.scope)
        fields = await read_form(request, headers.get(b"content-type", ""))
        return await answer(request, request.path_params["token"], headers, fields)

    @get("/{token:str}/thanks")
    async def thanks(self, token: FromPath[str], respond: NamedDependency[RespondService], repeat: FromQuery[int] = 0) -> Template:
        link = await respond.links.get(token)
        return Template("respond/thanks.html", context={"link": link, "repeat": bool(repeat)})


async def require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("请以 application/json 格式提交。")


class ResponsesApiController(Controller):
    path = "/api/v1"
    tags = ["respond"]

    @get(
        "/links/{token:str}",
        summary="The questionnaire a link opens, with a fresh nonce",
        responses=error_responses(403, 404),
    )
    async def link(
        self,
        request: Request,
        token: FromPath[str],
        respond: NamedDependency[RespondService],
        lang: FromQuery[str | None] = None,
    ) -> Response[LinkForm]:
        opened = await respond.open_form(token)
        form = link_form(opened.link, opened.questionnaire, opened.nonce, lang)
        return Response(form, cookies=device_cookie(request, respond))

    @post(
        "/responses",
        summary="Submit one questionnaire",
        status_code=201,
        before_request=require_json,
        responses=error_responses(400, 403, 404, 409, 413, 415, 422, 429, 503),
    )
    async def submit(
        self, request: Request, data: JSONBody[ResponseSubmission], respond: NamedDependency[RespondService]
    ) -> ResponseReceipt:
        await respond.submit(data.token, data.nonce, data.answers, sender_of(request, respond))
        return ResponseReceipt()
