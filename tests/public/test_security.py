"""Headers on every page, no stack traces, and no start in production with a default secret."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from support.helpers import filled_form, link_for, token_of
from survey_service.app import create_app
from survey_service.core.settings import Settings
from survey_service.web.security import InsecureSettings


async def test_every_kind_of_response_carries_the_security_headers(client, demo_links):
    token = token_of(link_for(demo_links, "parent"))
    form = filled_form((await client.get(f"/s/{token}")).text)
    responses = [
        await client.post(f"/s/{token}", data=form, follow_redirects=False),
        await client.get(f"/s/{token}"),
        await client.get("/s/unknown-token"),
        await client.post(f"/s/{token}", content=b"x", headers={"content-type": "text/plain"}),
        # The answer post's own path (public/answer_post.py): an answer refused, a body too large.
        await client.post(f"/s/{token}", data={"_nonce": "forged"}),
        await client.post(
            f"/s/{token}", content=b"a=" + b"x" * 70_000, headers={"content-type": "application/x-www-form-urlencoded"}
        ),
        await client.get("/api/v1/links/nope"),
        await client.get(f"/qr/{token}.png"),
        await client.get("/healthz"),
        await client.get("/no/such/page"),
    ]
    for response in responses:
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "Traceback" not in response.text


async def test_the_inline_style_of_the_answer_page_is_allowed_by_its_hash(client, demo_links):
    page = await client.get(f"/s/{token_of(link_for(demo_links, 'parent'))}")
    style = re.search(r"<style>(.*?)</style>", page.text, flags=re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["content-security-policy"]


async def test_the_inline_script_of_the_answer_page_is_allowed_by_its_hash_and_no_other(client, demo_links):
    page = await client.get(f"/s/{token_of(link_for(demo_links, 'parent'))}")
    [script] = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    [script_src] = [part.strip() for part in policy.split(";") if part.strip().startswith("script-src ")]
    assert script_src == f"script-src 'self' 'sha256-{digest}'"


@pytest.mark.parametrize("environment", ["production", "Production", " PRODUCTION ", "prod", "staging"])
@pytest.mark.parametrize("secret", [None, "short", "dev-insecure-secret-change-me"])
def test_production_refuses_a_default_or_weak_secret(secret, environment, tmp_path):
    """Any SURVEY_ENV but development, in any case, needs a real secret."""
    settings = Settings(database_url=str(tmp_path / "x.db"), environment=environment)
    if secret:
        settings = settings.with_changes(secret=secret)
    with pytest.raises(InsecureSettings, match="SURVEY_SECRET"):
        create_app(settings)
    create_app(settings.with_changes(secret="x" * 40))


def test_development_in_any_case_starts_with_the_default_secret(tmp_path):
    for environment in ("development", "Development", " DEVELOPMENT"):
        create_app(Settings(database_url=str(tmp_path / "x.db"), environment=environment))
