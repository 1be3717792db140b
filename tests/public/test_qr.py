"""Every QR code decodes, with a real decoder, to its link's absolute URL."""

from __future__ import annotations

from support.helpers import link_for, token_of
from support.qr import decode_png, decode_svg


async def test_png_and_svg_qr_codes_decode_to_the_link_url(client, demo_links):
    for group in ("parent", "student", "deputy"):
        link = link_for(demo_links, group)
        assert link.url == f"http://survey.test/s/{token_of(link)}"
        png = await client.get(f"/qr/{token_of(link)}.png")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert decode_png(png.content) == link.url
        svg = await client.get(f"/qr/{token_of(link)}.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert decode_svg(svg.content) == link.url


async def test_qr_for_unknown_token_or_format_is_404(client, demo_links):
    assert (await client.get("/qr/unknown.png")).status_code == 404
    assert (await client.get(f"/qr/{token_of(demo_links[0])}.gif")).status_code == 404
