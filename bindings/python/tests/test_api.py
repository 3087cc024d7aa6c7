"""The Region and Counter API, as an application uses it."""
import gc
import os
import stat

import pytest

import tally


def test_counter_add_value_reset(region):
    c = region.counter("api.requests.total")
    assert c.value == 0
    c.add()
    c.add(5)
    c.add(n=3)
    c.add(0)
    c.add(-2)
    assert c.value == 7
    assert c.name == "api.requests.total"
    assert c.region is region
    assert c.reset() == 7
    assert c.value == 0
    c.add(True)
    assert c.value == 1
    assert "api.requests.total" in repr(c) and "= 1" in repr(c)


def test_handles_of_one_name_share_the_counter(region):
    a, b = region.counter("x"), region.counter("x")
    a.add(2)
    b.add(3)
    assert a.value == b.value == region["x"] == 5


def test_add_range_is_int64(region):
    c = region.counter("big")
    c.add(2**63 - 1)
    assert c.value == 2**63 - 1
    c.reset()
    c.add(-(2**63))
    assert c.value == -(2**63)
    for n in (2**63, -(2**63) - 1, 10**30):
        with pytest.raises(OverflowError, match="signed 64-bit"):
            c.add(n)
        with pytest.raises(OverflowError):
            region.add("big", n)
    assert c.value == -(2**63)


def test_add_refuses_what_is_not_an_int(region):
    c = region.counter("x")
    for bad in (1.5, "1", None, b"1"):
        with pytest.raises(TypeError):
            c.add(bad)
        with pytest.raises(TypeError):
            region.add("x", bad)
    with pytest.raises(TypeError):
        c.add(1, 2)
    with pytest.raises(TypeError):
        c.add(m=1)
    with pytest.raises(TypeError):
        c.add(1, n=1)
    with pytest.raises(TypeError):
        region.add("x", 1, 2)
    with pytest.raises(TypeError):
        region.add()
    assert c.value == 0


def test_add_by_name_get_and_mapping(region):
    region.add("llm.gpt.calls")
    region.add("llm.gpt.tokens", 1234)
    region.add("llm.gpt.tokens", n=6)
    assert region.get("llm.gpt.tokens") == 1240
    assert region["llm.gpt.calls"] == 1
    assert region.get("missing") is None
    assert region.get("missing", 0) == 0
    assert "llm.gpt.calls" in region
    assert "missing" not in region
    with pytest.raises(KeyError):
        region["missing"]
    with pytest.raises(tally.NoCounter, match="no counter of that name"):
        region["missing"]
    # Reading never registers a name.
    assert "missing" not in region.items()


def test_items_by_prefix(region):
    for name, n in (("api.requests.total", 3), ("api.requests.novels", 2),
                    ("api.status.2xx", 3), ("error.llm.timeout", 1)):
        region.add(name, n)
    assert region.items("api.requests.") == {"api.requests.total": 3, "api.requests.novels": 2}
    assert region.items(prefix="error.") == {"error.llm.timeout": 1}
    assert region.items("nothing.") == {}
    assert region.items("x" * 100) == {}
    assert len(region.items()) == 4 and region.items() == region.items("")
    assert sum(region.items("api.").values()) == 8


def test_reset_by_name(region):
    region.add("api.requests.today", 42)
    assert region.reset("api.requests.today") == 42
    assert region["api.requests.today"] == 0
    assert region.reset("api.requests.today") == 0
    with pytest.raises(tally.NoCounter):
        region.reset("never.made")


def test_names_are_utf8_bytes(region):
    region.add("请求.总数", 2)
    assert region.items("请求.") == {"请求.总数": 2}
    region.add("n" * 64)
    with pytest.raises(tally.BadName):
        region.add("n" * 65)
    with pytest.raises(tally.BadName):  # 22 characters, 66 bytes
        region.counter("中" * 22)
    assert tally.name_valid("中" * 21) and not tally.name_valid("中" * 22)
    assert not tally.name_valid("") and not tally.name_valid(5)


def test_info(region, path):
    region.add("a")
    region.add("b")
    i = region.info()
    assert isinstance(i, tally.Info)
    assert (i.capacity, i.used, i.overflow, i.readonly, i.path) == (64, 2, 0, False, path)
    assert i.stripes >= 1 and i.stripes & (i.stripes - 1) == 0
    assert i.created is True and i.size > 0
    again = tally.Region(path, create=False)
    assert again.info().created is False and again.info().used == 2
    again.close()


def test_attach_sees_the_same_counters(region, path):
    c = region.counter("shared")
    other = tally.Region(path)
    other.add("shared", 10)
    c.add(1)
    assert other["shared"] == 11 and c.value == 11
    other.close()
    assert c.value == 11


def test_region_by_name_in_dev_shm(shm_name):
    with tally.Region(shm_name, capacity=8) as r:
        assert r.path == "/dev/shm/" + shm_name and r.name == shm_name
        r.add("x")
    assert os.path.exists("/dev/shm/" + shm_name)  # closing never removes
    with tally.Region(shm_name, create=False) as r:
        assert r["x"] == 1


def test_region_by_pathlike(tmp_path):
    with tally.Region(tmp_path / "r") as r:
        assert r.path == str(tmp_path / "r")


def test_mode_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        tally.Region(str(tmp_path / "a"), mode=0o640).close()
        tally.Region(str(tmp_path / "b")).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "b").st_mode) == 0o660


def test_bad_options(tmp_path):
    p = str(tmp_path / "r")
    for kwargs in ({"capacity": -1}, {"capacity": tally.MAX_CAPACITY + 1}, {"mode": 0o10000},
                   {"mode": -1}):
        with pytest.raises(ValueError):
            tally.Region(p, **kwargs)
    with pytest.raises(TypeError):
        tally.Region(p, 16)  # options are keywords only
    with pytest.raises(TypeError):
        tally.Region(p, group=1.5)
    with pytest.raises(ValueError, match="does not exist"):
        tally.Region(p, group="no-such-group-tally")
    with pytest.raises(ValueError, match="does not exist"):
        tally.Region(p, owner="no-such-user-tally")
    with pytest.raises(ValueError):
        tally.Region(p, owner=-1)
    assert not os.path.exists(p)


def test_close_and_context_manager(path):
    with tally.Region(path) as r:
        c = r.counter("x")
        c.add()
        assert not r.closed
    assert r.closed and "closed" in repr(r)
    r.close()  # twice is fine
    for use in (c.add, c.reset, lambda: c.value, lambda: r.add("x"), lambda: r["x"],
                lambda: r.get("x"), lambda: "x" in r, r.items, r.info, lambda: r.counter("x"),
                lambda: r.reset("x"), r.__enter__):
        with pytest.raises(tally.ClosedRegion, match="is closed"):
            use()
    with pytest.raises(ValueError):  # also a ValueError, like a closed file
        c.add()
    assert "closed region" in repr(c)


def test_counter_keeps_its_region_alive(path):
    c = tally.Region(path).counter("x")
    gc.collect()
    c.add(3)
    assert c.value == 3 and not c.region.closed


def test_counter_is_made_by_its_region():
    with pytest.raises(TypeError):
        tally.Counter()


def test_strerror():
    assert "full" in tally.strerror(-1001)
    assert tally.strerror(-2) == os.strerror(2)
    assert tally.strerror(10**20) == "unknown libtally error"
