"""The FastAPI app the middleware tests run, in-process and under real
servers (uvicorn and gunicorn import `asgi_app:app`, made from the
environment: TALLY_TEST_REGION, and TALLY_TEST_OPEN_EARLY to open the
region at import, before gunicorn --preload forks)."""
import os

from fastapi import FastAPI, HTTPException

import tally
from tally.asgi import TallyMiddleware


def make_app(region, **kwargs):
    app = FastAPI()

    @app.get("/")
    async def root():
        return {"ok": True}

    @app.get("/items/{item_id}")
    async def item(item_id: int):
        return {"id": item_id}

    @app.post("/items")
    async def create():
        return {"made": True}

    @app.get("/unavailable")
    async def unavailable():
        raise HTTPException(status_code=503)

    @app.get("/crash")
    async def crash():
        raise RuntimeError("the app failed")

    app.add_middleware(TallyMiddleware, region=region, **kwargs)
    return app


if "TALLY_TEST_REGION" in os.environ:
    _region = os.environ["TALLY_TEST_REGION"]
    app = make_app(tally.Region(_region) if os.environ.get("TALLY_TEST_OPEN_EARLY") else _region)
