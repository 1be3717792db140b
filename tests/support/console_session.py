"""Signing in to the console and posting its forms (with the CSRF token), as a browser does."""

from __future__ import annotations

PASSWORD = "correct-horse-1"


def csrf_of(client) -> str:
    return client.cookies.get("console_csrf", "")


async def login(client, username: str, password: str = PASSWORD):
    client.cookies.clear()
    page = await client.get("/console/login")
    assert page.status_code == 200
    form = {"_csrf_token": csrf_of(client), "username": username, "password": password, "next": "/console"}
    return await client.post("/console/login", data=form, follow_redirects=False)


async def post_form(client, path: str, fields: dict | None = None, files=None):
    data = {"_csrf_token": csrf_of(client), **(fields or {})}
    return await client.post(path, data=data, files=files, follow_redirects=False)
