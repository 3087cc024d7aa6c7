"""Real servers for the tests: an app module run by uvicorn or gunicorn on
127.0.0.1 at a free port, stopped by its pid; and `ab` to load it with an
exact number of requests."""
import os
import re
import signal
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`with Server(cmd, port, env): ...` runs cmd (in its own session, so
    that stopping it also stops its workers) until the block ends."""

    def __init__(self, argv, port, env, cwd):
        self.argv, self.port, self.env, self.cwd = argv, port, env, cwd
        self.proc = None

    def __enter__(self):
        self.log = open(os.path.join(self.cwd, f"server-{self.port}.log"), "w+")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.argv[:3]} exited with {self.proc.returncode}:\n"
                                     + self.output())
            try:  # a connection, no request: nothing is counted
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("server did not listen within 60 s:\n" + self.output())

    def output(self):
        self.log.seek(0)
        return self.log.read()[-4000:]

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Its session's process group has the server's pid as its id:
            # only what this test started.
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def server_env(**extra):
    env = dict(os.environ)
    env.update(extra)
    return env


def uvicorn(module_dir, app, port, workers, env):
    return Server([sys.executable, "-m", "uvicorn", app, "--app-dir", module_dir,
                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                   "--no-access-log", "--log-level", "warning"], port, env, module_dir)


def gunicorn(module_dir, app, port, workers, env, preload=False):
    argv = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k",
            "uvicorn.workers.UvicornWorker", "-b", f"127.0.0.1:{port}", "--chdir", module_dir,
            "--log-level", "warning", "--graceful-timeout", "5"]
    return Server(argv + (["--preload"] if preload else []) + [app], port, env, module_dir)


def ab(url, n, concurrency=16, post=None):
    """Runs ab; returns (complete, failed, non-2xx) as ab counted them."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    argv = ["ab", "-q", "-n", str(n), "-c", str(concurrency)]
    if post is not None:
        argv += ["-p", post, "-T", "application/json"]
    out = subprocess.run(argv + [url], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr

    def field(name):
        m = re.search(rf"^{name}:\s+(\d+)", out.stdout, re.M)
        return int(m.group(1)) if m else 0

    return field("Complete requests"), field("Failed requests"), field("Non-2xx responses")
