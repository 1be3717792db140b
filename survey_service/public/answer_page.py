"""The answer page (/s/{token}) and the JSON API for the same submission. Thin: parse, call, render."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from litestar import Controller, Litestar, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ASGIApp, Receive, Scope, Send

from survey_service.core.errors import DuplicateSubmission, InvalidAnswers
from survey_service.distribution.service import LinkContext
from survey_service.public.form_page import MAX_PAGES, NONCE_SLOT, FormPage, FormPages, accepts_gzip
from survey_service.public.forms import read_form
from survey_service.public.sender import device_id, form_device, sender_headers, sender_of
from survey_service.public.views import link_form, page_context
from survey_service.questionnaire import Questionnaire
from survey_service.questionnaire.languages import SOURCE, page_language
from survey_service.respond.access import ACCESS_CODE_FIELD
from survey_service.respond.nonce import check_receipt, issue_receipt
from survey_service.respond.service import EarlierAnswers, OpenForm, RespondService
from survey_service.web.responses import SeeOther

log = logging.getLogger(__name__)

NONCE_FIELD = "_nonce"
LANG_FIELD = "_lang"
# The respondent's pages are never kept by the browser: back after submitting fetches the page again
# (and gets the "已提交过" page), never a stored copy of the filled form with its spent nonce.
NO_STORE = {"cache-control": "no-store"}
STORED, REPEAT = "stored", "repeat"
FORM_TEMPLATE = "respond/form.html"
# The form is served gzipped or plain by what the request accepts: a cache between must keep both.
PLAIN = ((b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store"), (b"vary", b"accept-encoding"))
GZIPPED = (*PLAIN, (b"content-encoding", b"gzip"))


def thanks_location(respond: RespondService, token: str, kind: str) -> str:
    """The thank-you page's address, with a short-lived signed receipt: without one that page never
    says an answer was stored."""
    receipt = issue_receipt(respond.settings.secret, token, kind)
    return f"/s/{token}/thanks?repeat=1&r={receipt}" if kind == REPEAT else f"/s/{token}/thanks?r={receipt}"


async def answer(request: Request, token: str, headers: dict[bytes, str], fields: dict[str, str]) -> ASGIApp:
    """Submit a form's fields; the response as an ASGI app of its own: a 303 to the thank-you page
    (or to its "already submitted" form), or the form again with each problem marked. The body is
    read already: `request` is also built by public/answer_post.py, without a route handler."""
    respond: RespondService = request.app.state.respond
    nonce = fields.pop(NONCE_FIELD, "")
    lang = fields.pop(LANG_FIELD, "") or None
    code = fields.pop(ACCESS_CODE_FIELD, None)  # a one-time access code, for the groups that need one
    try:
        await respond.submit(token, nonce, fields, sender_of(request, respond, headers), access_code=code)
    except DuplicateSubmission:
        return SeeOther(thanks_location(respond, token, REPEAT))
    except InvalidAnswers as exc:
        # The same nonce goes back: the form is still the one first opened.
        link = await respond.links.get(token)
        form = link_form(link, respond.questionnaire_for(link), nonce, lang)
        page = Template(
            FORM_TEMPLATE,
            context=page_context(
                form, lang, given=fields if code is None else fields | {ACCESS_CODE_FIELD: code}, errors=exc.errors
            ),
            status_code=exc.status_code,
            headers=NO_STORE,
        )
        return page.to_asgi_response(app=None, request=request)
    return SeeOther(thanks_location(respond, token, STORED))


def form_page(app: Litestar, link: LinkContext, questionnaire: Questionnaire, lang: str, again: bool) -> FormPage:
    """A link's form for this questionnaire version and language, rendered once in this worker
    (public/form_page.py). `again` only adds the 再填一份 note: whether it shows is all a page depends on."""
    pages: FormPages = app.state.form_pages

    def render() -> str:
        engine = app.template_engine
        assert engine is not None  # create_app configures Jinja
        context = page_context(link_form(link, questionnaire, NONCE_SLOT, lang), lang)
        return engine.get_template(FORM_TEMPLATE).render(**context, again=again)

    return pages.get((link, questionnaire.version, lang, again), render)


async def render_forms_ahead(app: Litestar, respond: RespondService, links: list[LinkContext]) -> int:
    """Render the forms of the open links a worker read at its start (LinkCache.warm) in their
    questionnaire's own language, one at a time between requests, so that its first phones wait on
    no page's first render (about 1 ms each); at most half of what the worker keeps. How many."""
    now = datetime.now(UTC)
    rendered = 0
    for link in links:
        if rendered >= MAX_PAGES // 2:
            break
        questionnaire = respond.questionnaires.get(link.questionnaire_id)
        if questionnaire is None or not link.opens_at <= now < link.closes_at:
            continue  # its page says why it has no form (as it does when asked)
        try:
            form_page(app, link, questionnaire, page_language(questionnaire, None).current.tag, False)
        except Exception:
            log.exception("rendering the answer forms ahead stopped; they are rendered when asked for")
            break
        rendered += 1
        await asyncio.sleep(0)  # let the requests waiting meanwhile in
    return rendered


def form_response(request: Request, opened: OpenForm, lang: str, again: int, set_cookie: dict[str, str]) -> ASGIApp:
    """The form: its link's page for this questionnaire version and language, rendered once
    (public/form_page.py), with this request's nonce; gzipped for a phone that takes gzip."""
    page = form_page(request.app, opened.link, opened.questionnaire, lang, bool(again))
    nonce = opened.nonce.encode()
    encoding = next((value for name, value in request.scope["headers"] if name == b"accept-encoding"), b"")
    if accepts_gzip(encoding.decode("latin-1")):
        body, headers = page.gzipped(nonce), [*GZIPPED]
    else:
        body, headers = page.plain(nonce), [*PLAIN]
    headers.append((b"content-length", str(len(body)).encode()))
    if set_cookie:
        headers.append((b"set-cookie", set_cookie["set-cookie"].encode("latin-1")))
    return PageResponse(body, headers)


class PageResponse:
    """A 200 of prebuilt headers and body, as an ASGI app (what a handler may return: Litestar sends it
    through the app's before-send hooks, as every response): a Litestar Response built and encoded
    its headers anew for each request, a fifth of the answer page's CPU."""

    __slots__ = ("body", "headers")

    def __init__(self, body: bytes, headers: list[tuple[bytes, bytes]]):
        self.body, self.headers = body, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def answered_page(respond: RespondService, link: LinkContext, earlier: EarlierAnswers, lang: str = "") -> Template:
    """ "您已提交过本问卷" with the time, for a phone that answered this link before; it offers an
    explicit 再填一份 (a shared family phone) that opens the form only while the count it names holds."""
    context = {
        "state": "answered",
        "link": link,
        "answered_at": respond.local(earlier.latest) if earlier.latest else "",
        "again": earlier.count,
        "again_lang": lang,
    }
    return Template("respond/thanks.html", context=context, headers=NO_STORE)


async def show_form(request: Request, token: str, lang: str | None, again: int) -> ASGIApp:
    """The answer page of a link: the form with a nonce bound to this phone's device cookie (set
    here if it has none), or "已提交过" for a phone that answered the link."""
    respond: RespondService = request.app.state.respond
    device, set_cookie = form_device(request, respond)
    opened = await respond.open_form(token, device)
    language = page_language(opened.questionnaire, lang)
    earlier = await respond.earlier_answers(opened.link, None if set_cookie else device)
    # `again` is how many answers this phone had given when it chose 再填一份: once one more is
    # stored, back or a reload of that address shows this page again, not another blank form.
    if earlier.count and earlier.count != again:
        translated = language.current.tag != SOURCE.tag
        page = answered_page(respond, opened.link, earlier, language.current.tag if translated else "")
        return page.to_asgi_response(app=None, request=request)
    return form_response(request, opened, language.current.tag, again if earlier.count else 0, set_cookie)


class AnswerPageController(Controller):
    path = "/s"
    include_in_schema = False

    @get("/{token:str}")
    async def show(
        self,
        request: Request,
        token: FromPath[str],
        lang: FromQuery[str | None] = None,
        again: FromQuery[int] = 0,
    ) -> ASGIApp:
        """The app answers GET /s/{token} itself, before routing (public/form_get.py), through the same
        `show_form`; this handler takes the rest (a trailing slash, a Host header the router checks)."""
        return await show_form(request, token, lang, again)

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
        self,
        request: Request,
        token: FromPath[str],
        respond: NamedDependency[RespondService],
        repeat: FromQuery[int] = 0,
        r: FromQuery[str] = "",
    ) -> Template:
        """Thanks only with the receipt the answer post's redirect carries; else the phone's earlier
        answer if it has one ("已提交过"), else a neutral page with the questionnaire's link."""
        link = await respond.links.get(token)
        kind = REPEAT if repeat else STORED
        if check_receipt(respond.settings.secret, token, kind, r):
            return Template("respond/thanks.html", context={"state": kind, "link": link}, headers=NO_STORE)
        earlier = await respond.earlier_answers(link, device_id(sender_headers(request.scope), respond.settings.secret))
        if earlier.count:
            return answered_page(respond, link, earlier)
        return Template("respond/thanks.html", context={"state": "none", "link": link}, headers=NO_STORE)
