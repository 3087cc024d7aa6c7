"""Shared fixtures of tally's Python tests.

Regions live in pytest's tmp_path (file paths), or in /dev/shm under a
name unique to the test (removed afterwards) where another user must reach
them. TALLY_TEST_SCALE divides the long loops, as in the C tests.
"""
import os
import pickle
import uuid

import pytest

import tally

SCALE = max(1, int(os.environ.get("TALLY_TEST_SCALE", "1")))


def scaled(n):
    return max(1, n // SCALE)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "region")


@pytest.fixture
def region(path):
    r = tally.Region(path, capacity=64)
    yield r
    r.close()


@pytest.fixture
def shm_name():
    """A region name in /dev/shm for this test only."""
    name = f"tally-pytest-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    yield name
    try:
        os.unlink("/dev/shm/" + name)
    except FileNotFoundError:
        pass


def run_as(uid, gid, fn):
    """fn() in a forked child running as uid:gid with no other groups:
    ("ok", its result) or ("raised", exception class name, message)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            try:
                out = ("ok", fn())
            except Exception as e:  # reported to the parent, which asserts on it
                out = ("raised", type(e).__name__, str(e))
            with os.fdopen(wfd, "wb") as w:
                pickle.dump(out, w)
        finally:
            os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as r:
        data = r.read()
    os.waitpid(pid, 0)
    assert data, "the child run as another user died before reporting"
    return pickle.loads(data)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
