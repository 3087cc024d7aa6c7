"""examples/fastapi: the app under uvicorn with 2 workers, then the tally
agent with the example's tallyd.conf on the same region: it reads every
counter, and zeroes api.requests.today at the business midnight."""
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

import tally
from servers import free_port, server_env, uvicorn

SOURCE = os.environ.get("TALLY_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EXAMPLE = os.path.join(SOURCE, "examples", "fastapi")
TALLYD = os.environ.get("TALLYD")


def call(base, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, None


def agent_conf(tmp_path, region):
    """The example's tallyd.conf with this test's paths."""
    text = open(os.path.join(EXAMPLE, "tallyd.conf")).read()
    text = text.replace('region = "tally"', f'region = "{region}"')
    text = text.replace('"/var/lib/tally/summary.json"', f'"{tmp_path}/summary.json"')
    text = text.replace('"/var/lib/prometheus/node-exporter/tally.prom"', f'"{tmp_path}/tally.prom"')
    text = text.replace('"/var/lib/tally"', f'"{tmp_path}/state"')
    # A global option: before the sections.
    plugins = f'plugin_dir = "{os.environ["TALLY_PLUGIN_DIR"]}"'
    text = re.sub(r"^(timezone = .*)$", r"\1\n" + plugins, text, count=1, flags=re.M)
    (tmp_path / "state").mkdir()
    conf = tmp_path / "tallyd.conf"
    conf.write_text(text)
    return str(conf)


def once(conf, now):
    out = subprocess.run([TALLYD, "-c", conf, "--once", "--now", now], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(not TALLYD, reason="TALLYD (the built agent) not given; ctest gives it")
def test_example_app_and_agent(tmp_path):
    region = str(tmp_path / "region")
    port = free_port()
    env = server_env(TALLY_REGION=region)
    with uvicorn(EXAMPLE, "app:app", port, 2, env) as server:
        base = f"http://127.0.0.1:{port}"
        for i in range(3):
            assert call(base, f"/novels/{i}")[0] == 200
        for _ in range(2):
            assert call(base, "/llm/complete", {"model": "gpt-4o", "prompt": "a b c"}) == (
                200, {"model": "gpt-4o", "tokens": 6})
        assert call(base, "/llm/complete", {"model": "nope", "prompt": "x"})[0] == 404
        assert call(base, "/llm/complete", {"model": "qwen-max", "prompt": "timeout"})[0] == 504
        status, stats = call(base, "/stats")
        assert status == 200, server.output()
    assert stats["total_requests"] == 7  # /stats counts itself when its response starts
    assert stats["llm"]["llm.gpt-4o.calls"] == 2 and stats["llm"]["llm.gpt-4o.tokens"] == 12
    with tally.Region(region, create=False) as r:
        counters = r.items()
    assert {k: v for k, v in counters.items() if v} == {
        "api.requests.total": 8,
        "api.requests.today": 8,
        "api.requests.novels.{novel_id}": 3,
        "api.requests.llm.complete": 4,
        "api.requests.stats": 1,
        "api.requests.method.GET": 4,
        "api.requests.method.POST": 4,
        "api.status.2xx": 6,
        "api.status.4xx": 1,
        "api.status.5xx": 1,
        "api.requests.llm": 4,
        "llm.gpt-4o.calls": 2,
        "llm.gpt-4o.tokens": 12,
        "error.llm.unknown_model": 1,
        "error.llm.timeout": 1,
    }

    conf = agent_conf(tmp_path, region)
    once(conf, "2026-11-21T23:59:00+08:00")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["counters"]["api.requests.total"] == 8
    assert summary["counters"]["llm.gpt-4o.tokens"] == 12
    assert summary["counters"]["api.requests.today"] == 8
    once(conf, "2026-11-22T00:00:30+08:00")  # past the business midnight
    with tally.Region(region, create=False) as r:
        assert r["api.requests.today"] == 0  # zeroed by the agent, its day kept
        assert r["api.requests.total"] == 8
    days = json.loads((tmp_path / "summary.json").read_text())["counter_days"]
    assert {(d["date"], d["value"]) for d in days if d["name"] == "api.requests.today"} == {
        ("2026-11-21", 8)}
