"""workers.py — worker processes that come and go, for run-python.sh's reads.

    python workers.py {tally|prom} TARGET WORKERS COUNTERS

Plays a pre-fork server's master (gunicorn's): it forks WORKERS worker
processes one after another, each of which imports the library, adds
j + 1 to each of the same COUNTERS counters (j = 0 .. COUNTERS-1) and
exits; the master reaps each one before it forks the next, so the workers
come and go as restarts and max_requests recycling make them.

  tally  TARGET is the region (a file path); the master imports nothing of
         tally, so every worker's `import tally` loads the extension anew.
  prom   TARGET is PROMETHEUS_MULTIPROC_DIR; the master imports
         prometheus_client.multiprocess, as gunicorn's config does for its
         child_exit hook, and calls mark_process_dead(pid) for each worker
         that exited, as that hook does.

Counter j is api.requests.route_NN in tally, api_requests_total with
route="route_NN" in prometheus_client: after WORKERS workers each holds
WORKERS * (j + 1). Prints one JSON line: the workers and, for prom, the
files the directory holds (one per worker: what its scrapes must read).
"""
import json
import os
import sys
import traceback


def tally_worker(target, counters):
    import tally

    r = tally.Region(target, capacity=1024)
    for j in range(counters):
        r.counter(f"api.requests.route_{j:02d}").add(j + 1)
    r.close()


def prom_worker(_target, counters):
    from prometheus_client import Counter

    c = Counter("api_requests", "Requests served", ["route"])
    for j in range(counters):
        c.labels(f"route_{j:02d}").inc(j + 1)


def run_worker(fn, target, counters):
    """In the forked child: never return into the master's code."""
    status = 0
    try:
        fn(target, counters)
    except BaseException:  # the master reports the exit status
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def main(argv):
    if len(argv) != 5 or argv[1] not in ("tally", "prom"):
        sys.stderr.write("usage: workers.py {tally|prom} TARGET WORKERS COUNTERS\n")
        return 2
    lib, target, workers, counters = argv[1], argv[2], int(argv[3]), int(argv[4])
    dead = None
    if lib == "prom":
        os.makedirs(target, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = target
        from prometheus_client import multiprocess

        dead = multiprocess.mark_process_dead
    fn = tally_worker if lib == "tally" else prom_worker
    for i in range(workers):
        pid = os.fork()
        if pid == 0:
            run_worker(fn, target, counters)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.stderr.write(f"workers.py {lib}: worker {i + 1} of {workers} (pid {pid}) failed "
                             f"(wait status {status:#x}); its traceback is above\n")
            return 1
        if dead:
            dead(pid, target)
    files = len(os.listdir(target)) if lib == "prom" else None
    print(json.dumps({"lib": lib, "workers": workers, "counters": counters, "files": files}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
