"""QR codes of links: PNG or SVG, encoding the link's absolute URL."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from survey_service.core.errors import NotFound
from survey_service.core.settings import Settings
from survey_service.distribution.qr import QR_FORMATS
from survey_service.distribution.service import link_url
from survey_service.respond.service import RespondService


class QrController(Controller):
    path = "/qr"
    include_in_schema = False

    @get("/{filename:str}")
    async def qr(
        self, filename: FromPath[str], respond: NamedDependency[RespondService], settings: NamedDependency[Settings]
    ) -> Response:
        """/qr/{token}.png or /qr/{token}.svg"""
        token, _, fmt = filename.rpartition(".")
        if fmt not in QR_FORMATS:
            raise NotFound()
        await respond.links.get(token)
        render, media_type = QR_FORMATS[fmt]
        return Response(
            render(link_url(settings.public_url, token)),
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )
