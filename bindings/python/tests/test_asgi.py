"""tally.asgi.TallyMiddleware: names from route templates, every request
counted once, in-process and under real uvicorn and gunicorn workers."""
import os
import textwrap
import threading

import pytest
from fastapi import FastAPI, HTTPException
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

import tally
from conftest import scaled
from servers import ab, free_port, gunicorn, server_env, uvicorn
from tally.asgi import TallyMiddleware, route_name


def test_route_names():
    assert route_name("/") == "root"
    assert route_name("/items/{item_id}") == "items.{item_id}"
    assert route_name("/v1//chat/completions/") == "v1.chat.completions"
    assert route_name("/a b/\x07x") == "a_b._x"
    assert route_name("/today") == "route.today" and route_name("/total") == "route.total"
    assert route_name("/method/GET") == "route.method.GET"
    long_a, long_b = "/" + "a" * 80 + "/{x}", "/" + "a" * 80 + "/{y}"
    na, nb = route_name(long_a, 40), route_name(long_b, 40)
    assert len(na.encode()) <= 40 and len(nb.encode()) <= 40 and na != nb
    assert route_name(long_a, 40) == na  # stable
    cut = route_name("/" + "中" * 30, 40)
    assert len(cut.encode()) <= 40 and tally.name_valid(cut)


def fastapi_app(region, **kwargs):
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


def test_fastapi_counts(region):
    client = TestClient(fastapi_app(region), raise_server_exceptions=False)
    for i in range(5):
        assert client.get(f"/items/{i}").status_code == 200
    assert client.get("/").status_code == 200
    assert client.post("/items").status_code == 200
    assert client.get("/items/notanint").status_code == 422
    assert client.get("/unavailable").status_code == 503
    assert client.get("/crash").status_code == 500
    assert client.get("/no/such/path").status_code == 404
    assert client.delete("/items/1").status_code == 405
    assert client.request("BREW", "/").status_code == 405
    assert region.items("api.") == {
        "api.requests.total": 13,
        "api.requests.today": 13,
        "api.requests.items.{item_id}": 7,
        "api.requests.root": 2,
        "api.requests.items": 1,
        "api.requests.unavailable": 1,
        "api.requests.crash": 1,
        "api.requests.unmatched": 1,
        "api.requests.method.GET": 10,
        "api.requests.method.POST": 1,
        "api.requests.method.DELETE": 1,
        "api.requests.method.other": 1,
        "api.status.2xx": 7,
        "api.status.4xx": 4,
        "api.status.5xx": 2,
        # no name per raw path: /items/0 .. /items/4 are one route
    }


def test_starlette_routes_and_mounts(region):
    async def hello(request):
        return PlainTextResponse("hi")

    async def user(request):
        return PlainTextResponse(request.path_params["name"])

    inner = Starlette(routes=[Route("/users/{name}", user)])
    app = Starlette(routes=[Route("/hello", hello), Mount("/v1", app=inner),
                            Mount("/static", routes=[Route("/{path:path}", hello)])])
    client = TestClient(TallyMiddleware(app, region=region, prefix="web"))
    for path in ("/hello", "/v1/users/ann", "/v1/users/bob", "/static/a/b.css", "/nothing"):
        client.get(path)
    assert region.items("web.requests.") == {
        "web.requests.total": 5,
        "web.requests.today": 5,
        "web.requests.hello": 1,
        "web.requests.v1.users.{name}": 2,
        "web.requests.static.{path}": 1,
        "web.requests.unmatched": 1,
        "web.requests.method.GET": 5,
    }


def test_route_names_are_bounded(region):
    app = FastAPI()
    for i in range(5):
        app.add_api_route(f"/r{i}", lambda: {"ok": True})
    client = TestClient(TallyMiddleware(app, region=region, max_routes=3))
    for i in range(5):
        client.get(f"/r{i}")
    routes = {k: v for k, v in region.items("api.requests.r").items()}
    assert routes == {"api.requests.r0": 1, "api.requests.r1": 1, "api.requests.r2": 1}
    assert region["api.requests.other"] == 2


def test_region_by_name_opens_on_first_request(path):
    mw = TallyMiddleware(fastapi_app(path).router, region=path)
    assert not os.path.exists(path)
    TestClient(mw).get("/")
    with tally.Region(path, create=False) as r:
        assert r["api.requests.total"] == 1


def test_bad_prefix(region):
    with pytest.raises(ValueError):
        TallyMiddleware(FastAPI(), region=region, prefix="a\nb")


def test_lifespan_and_websocket_pass_through(region):
    app = fastapi_app(region)
    with TestClient(app) as client:  # runs the lifespan protocol
        client.get("/")
    assert region["api.requests.total"] == 1


APP = """
import os
import tally
from fastapi import FastAPI
from tally.asgi import TallyMiddleware

app = FastAPI()

@app.get("/")
async def root():
    return {"ok": True}

@app.get("/items/{item_id}")
async def item(item_id: int):
    return {"id": item_id}

@app.post("/orders")
async def order():
    return {"made": True}

# Open before the fork (gunicorn --preload), or by name in each worker.
region = os.environ["TALLY_TEST_REGION"]
if os.environ.get("TALLY_TEST_OPEN_EARLY"):
    region = tally.Region(region)
app.add_middleware(TallyMiddleware, region=region)
"""


def load_and_check(tmp_path, server, region_path):
    """Loads a running server with ab; every request is counted once,
    also while api.requests.today is reset under the load."""
    n = scaled(2000)
    base = f"http://127.0.0.1:{server.port}"
    body = tmp_path / "order.json"
    body.write_text("{}")
    r = tally.Region(region_path)
    today = r.counter("api.requests.today")
    taken, stop = [], threading.Event()

    def resetter():
        while not stop.is_set():
            taken.append(today.reset())

    t = threading.Thread(target=resetter)
    t.start()
    try:
        assert ab(base + "/items/42", n) == (n, 0, 0)
    finally:
        stop.set()
        t.join()
    assert ab(base + "/", n) == (n, 0, 0)
    assert ab(base + "/orders", n, post=str(body)) == (n, 0, 0)
    assert ab(base + "/missing/page", n) == (n, 0, n)
    got = r.items("api.")
    r.close()
    assert got == {
        "api.requests.total": 4 * n,
        "api.requests.today": 4 * n - sum(taken),
        "api.requests.items.{item_id}": n,
        "api.requests.root": n,
        "api.requests.orders": n,
        "api.requests.unmatched": n,
        "api.requests.method.GET": 3 * n,
        "api.requests.method.POST": n,
        "api.status.2xx": 3 * n,
        "api.status.4xx": n,
    }, server.output()


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "app_under_test.py").write_text(textwrap.dedent(APP))
    return str(tmp_path)


def test_uvicorn_four_workers(tmp_path, app_dir):
    region = str(tmp_path / "region")
    port = free_port()
    env = server_env(TALLY_TEST_REGION=region)
    with uvicorn(app_dir, "app_under_test:app", port, 4, env) as server:
        load_and_check(tmp_path, server, region)


def test_gunicorn_four_workers_preloaded(tmp_path, app_dir):
    """The region opened once in the master, before gunicorn forks."""
    region = str(tmp_path / "region")
    port = free_port()
    env = server_env(TALLY_TEST_REGION=region, TALLY_TEST_OPEN_EARLY="1")
    with gunicorn(app_dir, "app_under_test:app", port, 4, env, preload=True) as server:
        load_and_check(tmp_path, server, region)
