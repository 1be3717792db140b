"""Security headers on every response, and the production checks on the settings."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from litestar.types import Message, Scope

from survey_service.core.settings import DEFAULT_SECRET, Settings

MIN_SECRET_LENGTH = 32


class InsecureSettings(SystemExit):
    pass


DEVELOPMENT = "development"


def check_production_settings(settings: Settings) -> None:
    """Refuse to start with a default, missing or short secret anywhere but in development: any other
    SURVEY_ENV (production, Production, staging, prod, …) is treated as production."""
    if settings.environment.strip().lower() == DEVELOPMENT:
        return
    if settings.secret == DEFAULT_SECRET or len(settings.secret) < MIN_SECRET_LENGTH:
        raise InsecureSettings(
            "生产环境必须设置 SURVEY_SECRET（至少 32 个字符的随机值）"
            " / in production SURVEY_SECRET must be a random value of at least 32 characters."
        )


def inline_style_hashes(templates: Path) -> list[str]:
    """CSP hashes of the static <style> blocks in the templates: inline CSS saves a round trip on
    a slow phone network, and the hash keeps every other inline style (and all inline script) out."""
    return inline_hashes(templates, "style")


def inline_script_hashes(templates: Path) -> list[str]:
    """CSP hashes of the static <script> blocks in the templates (the answer page's progress and
    focus script, kept inline so that the page stays one request); any other inline script is refused."""
    return inline_hashes(templates, "script")


def inline_hashes(templates: Path, tag: str) -> list[str]:
    """The CSP hash of each bare <tag>…</tag> block written in the templates (no Jinja inside)."""
    hashes = set()
    for path in templates.rglob("*.html"):
        for block in re.findall(rf"<{tag}>(.*?)</{tag}>", path.read_text(encoding="utf-8"), flags=re.S):
            digest = hashlib.sha256(block.encode("utf-8")).digest()
            hashes.add("'sha256-" + base64.b64encode(digest).decode() + "'")
    return sorted(hashes)


def security_headers(settings: Settings, templates: Path):
    """A before-send hook adding CSP, nosniff, no-referrer and frame denial to every response."""
    csp = "; ".join(
        [
            "default-src 'none'",
            "style-src 'self' " + " ".join(inline_style_hashes(templates)),
            "img-src 'self' data:",
            " ".join(["script-src 'self'", *inline_script_hashes(templates)]),
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        # Links carry their token in the URL: never send it on to another site.
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]
    if settings.public_url.startswith("https://"):
        headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def add_headers(message: Message, scope: Scope) -> None:
        """A before-send hook: it sees every response, the router's own 404s and 405s included."""
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *headers]

    return add_headers
