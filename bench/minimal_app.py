"""The yardstick: a minimal Litestar app returning a constant, served the same way as the product."""

from litestar import Litestar, MediaType, get, post


@post("/", media_type=MediaType.TEXT, status_code=200)
async def constant() -> str:
    return "ok"


@get("/healthz", media_type=MediaType.TEXT)
async def healthz() -> str:
    return "ok"


app = Litestar(route_handlers=[constant, healthz])
