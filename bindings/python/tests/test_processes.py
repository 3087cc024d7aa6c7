"""Exact counts from many processes and threads, across fork, and resets
while others add."""
import multiprocessing
import os
import threading

import tally
from conftest import scaled

PROCS, THREADS = 4, 2


def run_children(n, body):
    """body(i) in n forked children; asserts each exited 0."""
    pids = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                body(i)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0


def threads(n, target):
    ts = [threading.Thread(target=target) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def test_processes_and_threads_through_handles(path):
    loops = scaled(100_000)

    def child(i):
        r = tally.Region(path)  # each process opens the region itself
        c = r.counter("exact.handle")

        def adds():
            for _ in range(loops):
                c.add()

        threads(THREADS, adds)

    tally.Region(path).close()
    run_children(PROCS, child)
    with tally.Region(path) as r:
        assert r["exact.handle"] == PROCS * THREADS * loops


def test_processes_and_threads_by_name(path):
    loops = scaled(100_000)

    def child(i):
        r = tally.Region(path)

        def adds():
            for _ in range(loops):
                r.add("exact.name")
                r.add("exact.name.by3", 3)

        threads(THREADS, adds)

    tally.Region(path).close()
    run_children(PROCS, child)
    with tally.Region(path) as r:
        assert r["exact.name"] == PROCS * THREADS * loops
        assert r["exact.name.by3"] == 3 * PROCS * THREADS * loops


def test_threads_of_one_process(region):
    loops = scaled(100_000)
    c = region.counter("threads")

    def adds():
        for _ in range(loops):
            c.add()

    threads(8, adds)
    assert c.value == 8 * loops


def test_fork_after_open(path):
    """A region and handles made before fork (gunicorn's preload) stay
    valid in every child; a child's close releases nothing."""
    loops = scaled(100_000)
    r = tally.Region(path)
    c = r.counter("forked")

    def child(i):
        for _ in range(loops):
            c.add()
        r.add("forked.by_name", 2)
        r.close()  # unmaps this child's copy only

    run_children(PROCS, child)
    assert os.path.exists(path)
    c.add()
    assert c.value == PROCS * loops + 1
    assert r["forked.by_name"] == 2 * PROCS
    r.close()


_inherited = {}


def _mp_worker(loops):
    c = _inherited["counter"]
    for _ in range(loops):
        c.add()
    _inherited["region"].add("mp.by_name")


def test_multiprocessing_fork(path):
    loops = scaled(100_000)
    _inherited["region"] = r = tally.Region(path)
    _inherited["counter"] = r.counter("mp")
    try:
        ctx = multiprocessing.get_context("fork")
        ps = [ctx.Process(target=_mp_worker, args=(loops,)) for _ in range(PROCS)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        assert [p.exitcode for p in ps] == [0] * PROCS
        assert r["mp"] == PROCS * loops and r["mp.by_name"] == PROCS
    finally:
        _inherited.clear()
        r.close()


def test_reset_while_others_add(path):
    """Every add lands either in a reset's result or in the final value."""
    loops = scaled(100_000)
    r = tally.Region(path)
    c = r.counter("api.requests.today")
    pids = []
    for _ in range(PROCS):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for _ in range(loops):
                    c.add()
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    taken = []
    alive = set(pids)
    while alive:
        taken.append(c.reset())
        for pid in list(alive):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                assert os.waitstatus_to_exitcode(status) == 0
                alive.discard(pid)
    assert len(taken) > 1
    assert sum(taken) + c.value == PROCS * loops
    r.close()
