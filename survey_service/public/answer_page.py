"""The answer page (/s/{token}) and the JSON API for the same submission. Thin: parse, call, render."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ASGIApp

from survey_service.core.errors import DuplicateSubmission, InvalidAnswers
from survey_service.public.forms import read_form
from survey_service.public.sender import device_cookie, sender_headers, sender_of
from survey_service.public.views import link_form, page_context
from survey_service.respond.service import RespondService
from survey_service.web.responses import SeeOther

NONCE_FIELD = "_nonce"
LANG_FIELD = "_lang"


async def answer(request: Request, token: str, headers: dict[bytes, str], fields: dict[str, str]) -> ASGIApp:
    """Submit a form's fields; the response as an ASGI app of its own: a 303 to the thank-you page
    (or to its "already submitted" form), or the form again with each problem marked. The body is
    read already: `request` is also built by public/answer_post.py, without a route handler."""
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
        return Template("respond/form.html", context=page_context(form, lang), cookies=device_cookie(request, respond))

    @post("/{token:str}", status_code=303)
    async def submit(self, request: Request) -> ASGIApp:
        """The answer post. The app answers an urlencoded post to /s/{token} (what the form sends)
        itself, before routing (public/answer_post.py), through the same `answer`; this handler
        takes the rest: multipart, a wrong content type (refused), a path with a trailing slash."""
        headers = sender_headers(request.scope)
        fields = await read_form(request, headers.get(b"content-type", ""))
        return await answer(request, request.path_params["token"], headers, fields)

    @get("/{token:str}/thanks")
    async def thanks(
        self, token: FromPath[str], respond: NamedDependency[RespondService], repeat: FromQuery[int] = 0
    ) -> Template:
        link = await respond.links.get(token)
        return Template("respond/thanks.html", context={"link": link, "repeat": bool(repeat)})
