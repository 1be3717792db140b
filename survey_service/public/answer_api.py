"""The JSON API for the same submission as the answer page: a link's questionnaire with a fresh
nonce, and one questionnaire submitted."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Response

from survey_service.core.errors import UnsupportedMediaType
from survey_service.public.schemas import LinkForm, ResponseReceipt, ResponseSubmission
from survey_service.public.sender import form_device, sender_of
from survey_service.public.views import link_form
from survey_service.respond.service import RespondService
from survey_service.web.errors import error_responses


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
        device, set_cookie = form_device(request, respond)
        opened = await respond.open_form(token, device)
        form = link_form(opened.link, opened.questionnaire, opened.nonce, lang)
        return Response(form, headers=set_cookie)

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
        await respond.submit(
            data.token, data.nonce, data.answers, sender_of(request, respond), access_code=data.access_code
        )
        return ResponseReceipt()
