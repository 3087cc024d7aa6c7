"""Every error an application can meet, as the exception it catches, with
libtally's sentence; none is a silent miss."""
import errno
import grp
import os
import pwd
import stat

import pytest

import tally
from conftest import needs_root, run_as


def test_region_full(path):
    r = tally.Region(path, capacity=2)
    r.add("a")
    r.counter("b").add()
    with pytest.raises(tally.RegionFull, match="region is full") as e:
        r.add("c")
    assert e.value.code == -1001 and isinstance(e.value, tally.Error)
    with pytest.raises(tally.RegionFull):
        r.counter("d")
    info = r.info()
    assert (info.used, info.overflow) == (2, 2)
    assert r.items() == {"a": 1, "b": 1}  # the adds that fit all counted
    r.close()


@pytest.mark.parametrize("name", ["", "x" * 65, "a\nb", "tab\there", "a\x00b", "\ud800", "\x7f"])
def test_bad_names(region, name):
    for use in (region.counter, region.add, region.get, region.reset,
                region.__getitem__, region.__contains__):
        with pytest.raises(tally.BadName, match="invalid counter name") as e:
            use(name)
        assert isinstance(e.value, ValueError) and e.value.code == -1002
    assert region.items() == {}


def test_names_must_be_str(region):
    for use in (region.counter, region.add, region.get, region.reset):
        with pytest.raises(TypeError):
            use(b"api.requests.total")


def test_missing_region_without_create(path):
    with pytest.raises(tally.NoRegion, match="region does not exist") as e:
        tally.Region(path, create=False)
    assert isinstance(e.value, FileNotFoundError) and e.value.errno == errno.ENOENT
    with pytest.raises(FileNotFoundError):
        tally.Region(path, readonly=True)
    assert not os.path.exists(path)


def hostile(tmp_path, content):
    p = tmp_path / "hostile"
    p.write_bytes(content)
    return p


def real_region_bytes(tmp_path):
    p = str(tmp_path / "real")
    tally.Region(p, capacity=8).close()
    with open(p, "rb") as f:
        return f.read()


@pytest.mark.parametrize("kind,text", [
    ("empty", "region file is empty"),
    ("garbage", "not a tally region"),
    ("short", "region cut short"),
    ("truncated", "smaller than its header claims"),
    ("corrupt", "header is corrupt"),
])
def test_hostile_files(tmp_path, kind, text):
    real = real_region_bytes(tmp_path)
    content = {
        "empty": b"",
        "garbage": os.urandom(8192),
        "short": real[:100],
        "truncated": real[: len(real) // 2],
        "corrupt": real[:16] + bytes([real[16] ^ 0xFF]) + real[17:],
    }[kind]
    p = hostile(tmp_path, content)
    for kwargs in ({}, {"create": False}, {"readonly": True}):
        with pytest.raises(tally.BadRegion, match=text) as e:
            tally.Region(str(p), **kwargs)
        assert e.value.code <= -1003
    assert p.read_bytes() == content  # never repaired, never removed


def test_not_a_file(tmp_path):
    with pytest.raises(tally.BadRegion, match="is a directory"):
        tally.Region(str(tmp_path))
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(tally.BadRegion, match="FIFO"):
        tally.Region(str(tmp_path / "fifo"))
    os.symlink(tmp_path / "nothing", tmp_path / "dangling")
    with pytest.raises(tally.BadRegion, match="dangling"):
        tally.Region(str(tmp_path / "dangling"))
    assert not os.path.exists(tmp_path / "nothing")


def test_symlink_in_dev_shm(shm_name, tmp_path):
    os.symlink(tmp_path / "target", "/dev/shm/" + shm_name)
    with pytest.raises(tally.BadRegion, match="symbolic link"):
        tally.Region(shm_name)
    assert not os.path.exists(tmp_path / "target")


def test_writable_by_everyone_is_refused(path):
    tally.Region(path).close()
    os.chmod(path, 0o666)
    with pytest.raises(tally.BadRegion, match="writable by every user"):
        tally.Region(path)


def test_read_only_attach(path):
    with tally.Region(path) as w:
        w.add("api.requests.total", 5)
    with tally.Region(path, readonly=True) as r:
        assert r.readonly and r.info().readonly
        assert r["api.requests.total"] == 5 and r.items() == {"api.requests.total": 5}
        c = r.counter("api.requests.total")  # an existing name: a handle to read
        assert c.value == 5
        for write in (c.add, lambda: c.add(2), c.reset, lambda: r.add("api.requests.total"),
                      lambda: r.reset("api.requests.total"), lambda: r.counter("new.name"),
                      lambda: r.add("new.name")):
            with pytest.raises(tally.ReadOnly, match="attached read-only") as e:
                write()
            assert e.value.code == -1020
        assert r.items() == {"api.requests.total": 5}


@needs_root
def test_permission_denied_is_permission_error(shm_name):
    with tally.Region(shm_name, mode=0o660):
        pass
    nobody = pwd.getpwnam("nobody")
    out = run_as(nobody.pw_uid, nobody.pw_gid, lambda: tally.Region(shm_name).info())
    assert out[0] == "raised" and out[1] == "PermissionError", out
    assert "Permission denied" in out[2] and shm_name in out[2]


@needs_root
def test_group_by_name_and_read_only_member(shm_name):
    www = grp.getgrnam("www-data")
    with tally.Region(shm_name, mode=0o640, group="www-data") as r:
        r.add("api.requests.total", 3)
    st = os.stat("/dev/shm/" + shm_name)
    assert (st.st_gid, stat.S_IMODE(st.st_mode)) == (www.gr_gid, 0o640)
    nobody = pwd.getpwnam("nobody").pw_uid

    def read_only():
        with tally.Region(shm_name, readonly=True) as r:
            try:
                r.add("api.requests.total")
            except tally.ReadOnly:
                return r.items()
        return "the add was not refused"

    assert run_as(nobody, www.gr_gid, read_only) == ("ok", {"api.requests.total": 3})
    out = run_as(nobody, www.gr_gid, lambda: tally.Region(shm_name).info())
    assert out[:2] == ("raised", "PermissionError"), out


@needs_root
def test_group_by_gid(shm_name):
    www = grp.getgrnam("www-data").gr_gid
    tally.Region(shm_name, group=www).close()
    assert os.stat("/dev/shm/" + shm_name).st_gid == www


@needs_root
def test_group_the_creator_is_not_in(shm_name):
    nobody = pwd.getpwnam("nobody")

    def create():
        tally.Region(shm_name, group="www-data")

    out = run_as(nobody.pw_uid, nobody.pw_gid, create)
    assert out[:2] == ("raised", "GroupDenied"), out
    assert "member" in out[2]
    assert not os.path.exists("/dev/shm/" + shm_name)  # never published half made


@needs_root
def test_untrusted_owner(path):
    tally.Region(path).close()
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chown(path, nobody, -1)
    with pytest.raises(tally.BadRegion, match="does not trust") as e:
        tally.Region(path)
    assert e.value.code == -1018
    with tally.Region(path, owner="nobody") as r:
        r.add("x")
    with tally.Region(path, owner=nobody, readonly=True) as r:
        assert r["x"] == 1
