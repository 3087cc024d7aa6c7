"""A FastAPI back end counting what the usage_metrics table counted, into
a tally region shared by every worker and read by the tally agent.

    uvicorn app:app --workers 4                      # each worker opens the region
    gunicorn -w 4 -k uvicorn.workers.UvicornWorker --preload app:app
                                                     # opened once, before the fork

TALLY_REGION names the region (default "tally", i.e. /dev/shm/tally).
"""
import os

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

import tally
from tally.asgi import TallyMiddleware

# Opened at import: in the master before gunicorn --preload forks (the
# mapping is shared, so it stays valid in every worker), or in each worker
# that imports the app itself (uvicorn --workers).
region = tally.Region(os.environ.get("TALLY_REGION", "tally"))

app = FastAPI(title="tally example")
# api.requests.total, api.requests.<route>, api.requests.method.<M>,
# api.status.<N>xx and api.requests.today (zeroed by tallyd at midnight).
app.add_middleware(TallyMiddleware, region=region, prefix="api")

# Counter names made from what clients send must be bounded: only the
# models this service knows get counters of their own.
MODELS = ("gpt-4o", "claude-sonnet", "qwen-max")
llm_calls = {m: region.counter(f"llm.{m}.calls") for m in MODELS}
llm_tokens = {m: region.counter(f"llm.{m}.tokens") for m in MODELS}
llm_requests = region.counter("api.requests.llm")
errors = {kind: region.counter(f"error.llm.{kind}") for kind in ("timeout", "rate_limit",
                                                                  "unknown_model")}


class Completion(BaseModel):
    model: str
    prompt: str


@app.get("/novels/{novel_id}")
async def novel(novel_id: int):
    return {"id": novel_id, "title": f"Novel {novel_id}"}


@app.post("/llm/complete")
async def complete(req: Completion):
    llm_requests.add()
    if req.model not in llm_calls:
        errors["unknown_model"].add()
        raise HTTPException(status_code=404, detail=f"unknown model {req.model!r}")
    if req.prompt == "timeout":  # stands in for an upstream timeout
        errors["timeout"].add()
        raise HTTPException(status_code=504, detail="the model timed out")
    if req.prompt == "rate_limit":
        errors["rate_limit"].add()
        raise HTTPException(status_code=429, detail="rate limited")
    tokens = 2 * len(req.prompt.split())  # stands in for the model's usage
    llm_calls[req.model].add()
    llm_tokens[req.model].add(tokens)
    return {"model": req.model, "tokens": tokens}


@app.get("/stats")
async def stats():
    """The dashboard: what get_dashboard_stats read with prefix queries."""
    return {
        "api": region.items("api.requests."),
        "llm": region.items("llm."),
        "errors": region.items("error."),
        "total_requests": region.get("api.requests.total", 0),
    }
