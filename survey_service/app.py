"""create_app(settings): the one place the Litestar application is assembled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from litestar import Litestar, MediaType, Request, Response, Router, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig
from litestar.types import LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send

from survey_service.console.guards import requires_bureau
from survey_service.console.routes import NO_STORE, account_middleware, console_routes, session_stores
from survey_service.core.heap import settle_heap
from survey_service.core.resources import questionnaires_dir, templates_dir
from survey_service.core.settings import Settings, load_settings
from survey_service.db.engine import bind, close_pool, make_engine, open_pool
from survey_service.distribution.service import LinkCache
from survey_service.ledger.store import response_store
from survey_service.ledger.writer import ResponseWriter
from survey_service.ledger.writer_process import RemoteResponseStore
from survey_service.public.answer_api import ResponsesApiController
from survey_service.public.answer_page import AnswerPageController, render_forms_ahead
from survey_service.public.answer_post import answer_post, post_answer
from survey_service.public.form_get import form_get, get_form
from survey_service.public.form_page import FormPages
from survey_service.public.qr import QrController
from survey_service.public.results_api import ResultsApiController
from survey_service.questionnaire import load_questionnaires
from survey_service.respond.service import RespondService
from survey_service.results.workbook_process import stop_builder
from survey_service.web.errors import EXCEPTION_HANDLERS, refuse_impossible_ids
from survey_service.web.hosts import impossible_host, refuse_host
from survey_service.web.openapi import StrictStructSchemaPlugin
from survey_service.web.requests import BoundedJsonRequest
from survey_service.web.security import check_production_settings, security_headers


class SurveyApp(Litestar):
    """The Litestar app, which answers the answer form's post and its page itself, before routing
    (public/answer_post.py, public/form_get.py); and refuses a Host header no URL can be made of
    (web/hosts.py)."""

    async def __call__(
        self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive, send: Send | LifeSpanSend
    ) -> None:
        if scope["type"] == "http" and impossible_host(scope):
            await refuse_host(self, scope, cast(Receive, receive), cast(Send, send))
        elif scope["type"] != "lifespan" and (post := answer_post(scope)) is not None:
            # An HTTP scope comes with HTTP's receive and send (ASGI), which the type checker cannot see.
            await post_answer(self, *post, scope, cast(Receive, receive), cast(Send, send))
        elif scope["type"] != "lifespan" and (token := form_get(scope)) is not None:
            await get_form(self, token, scope, cast(Receive, receive), cast(Send, send))  # the answer page
        else:
            await super().__call__(scope, receive, send)


@get("/healthz", include_in_schema=False, media_type=MediaType.JSON)
async def healthz() -> dict[str, str]:
    """Liveness: the process answers. Whether answers can be stored is /readyz."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False, media_type=MediaType.JSON)
async def readyz(request: Request) -> Response[dict[str, str]]:
    """Readiness: 503 while answers cannot be committed (the database read-only, the disk full, the
    writer process gone), 200 again once they can (the response writer probes every second)."""
    writer: ResponseWriter = request.app.state.writer
    if (reason := await writer.check()) is None:
        return Response({"status": "ready"})
    return Response({"status": "unavailable", "reason": reason}, status_code=503, headers={"retry-after": "5"})


def create_app(settings: Settings) -> Litestar:
    check_production_settings(settings)
    engine = make_engine(settings)
    questionnaires = load_questionnaires(questionnaires_dir())
    store = RemoteResponseStore(settings.writer_socket) if settings.writer_socket else response_store(engine)
    writer = ResponseWriter(store, batch_size=settings.write_batch_size)
    respond = RespondService(settings, LinkCache(settings.link_cache_seconds), questionnaires, writer)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        bind(engine)
        await open_pool(engine)
        await writer.start()
        links = await respond.links.warm()
        rereading = asyncio.create_task(respond.links.keep_fresh(), name="link-reread")
        rendering = asyncio.create_task(render_forms_ahead(app, respond, links), name="forms-ahead")
        settle_heap()
        try:
            yield
        finally:
            rereading.cancel()
            rendering.cancel()
            stop_builder()
            await writer.stop()
            await respond.close()
            await close_pool(engine)

    app = SurveyApp(
        route_handlers=[
            healthz,
            readyz,
            AnswerPageController,
            ResponsesApiController,
            QrController,
            # The results of a round are the bureau's: signed-in bureau accounts only.
            Router(
                "/",
                route_handlers=[ResultsApiController],
                guards=[requires_bureau],
                cache_control=NO_STORE,
                before_request=refuse_impossible_ids,
                middleware=account_middleware(settings),
            ),
            *console_routes(settings),
        ],
        dependencies={
            "respond": Provide(lambda: respond, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "questionnaires": Provide(lambda: questionnaires, use_cache=True, sync_to_thread=False),
        },
        lifespan=[lifespan],
        template_config=TemplateConfig(directory=templates_dir(), engine=JinjaTemplateEngine),
        exception_handlers=EXCEPTION_HANDLERS,
        # Console accounts: server-side sessions in the database (the console's routers add sessions
        # and CSRF; the respondent's path has neither).
        stores=session_stores(),
        before_send=[security_headers(settings, templates_dir())],
        openapi_config=OpenAPIConfig(title="survey-service", version="1", path="/schema"),
        plugins=[StrictStructSchemaPlugin()],
        request_max_body_size=settings.max_body_bytes,
        # JSON bodies bounded in depth; one that is not JSON (or not UTF-8) a 400, never a 500.
        request_class=BoundedJsonRequest,
        debug=False,
    )
    app.state.respond = respond
    app.state.writer = writer
    app.state.form_pages = FormPages()  # the answer page rendered once per link, version and language
    return app


def app_from_environment() -> Litestar:
    """The factory uvicorn workers call: each reads the same SURVEY_* environment."""
    return create_app(load_settings())
