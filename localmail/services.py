"""The deployment's other services on this machine, for the tests and benchmarks: PostgreSQL and Redis
on loopback (started with the machine's own commands when they are not running), a fresh database
per use, and the app's processes (gunicorn, sync workers, watchers) as real child processes."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = ("127.0.0.1", 6379)


def _listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _wait_for(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _listening(host, port):
            return True
        time.sleep(0.2)
    return False


def start_redis() -> None:
    """Redis on 127.0.0.1:6379, keeping nothing on disk, as this machine starts it."""
    if _listening(*REDIS):
        return
    Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
    Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
                    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                    "--logfile", "/var/log/redis/ci.log"], check=True)
    if not _wait_for(*REDIS, 10):
        raise RuntimeError("Redis did not start on 127.0.0.1:6379")


def stop_redis() -> None:
    subprocess.run(["redis-cli", "-h", REDIS[0], "-p", str(REDIS[1]), "shutdown", "nosave"], check=False,
                   capture_output=True)
    deadline = time.monotonic() + 10
    while _listening(*REDIS) and time.monotonic() < deadline:
        time.sleep(0.1)


def start_postgresql() -> None:
    """The machine's PostgreSQL cluster (trust authentication on loopback)."""
    if _listening("127.0.0.1", 5432):
        return
    for version in sorted(os.listdir("/etc/postgresql")):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)
    if not _wait_for("127.0.0.1", 5432, 30):
        raise RuntimeError("PostgreSQL did not start on 127.0.0.1:5432")


def restart_postgresql() -> None:
    for version in sorted(os.listdir("/etc/postgresql")):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
                       check=True, capture_output=True)
    if not _wait_for("127.0.0.1", 5432, 30):
        raise RuntimeError("PostgreSQL did not come back on 127.0.0.1:5432")


@contextlib.contextmanager
def fresh_database(prefix: str = "inkorg_test") -> Iterator[str]:
    """A new, empty PostgreSQL database for one use; its URL. Dropped afterwards."""
    import psycopg

    start_postgresql()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


_queue_numbers = itertools.count(os.getpid())  # runs side by side start at different databases


def fresh_queue_url() -> str:
    """A Redis database of its own (1..15), emptied. Taken in turn, so that within one run a test
    never gets the database whose sync worker a test before it has just stopped: a heartbeat that
    worker wrote while stopping would count as a second worker."""
    import redis

    start_redis()
    number = 1 + next(_queue_numbers) % 15
    redis.Redis(*REDIS, db=number).flushdb()
    return f"redis://{REDIS[0]}:{REDIS[1]}/{number}"


class AppProcess:
    """One of the app's processes (`flask --app app ...` or gunicorn), its output kept in a file."""

    started: list[AppProcess] = []  # every one, so that a run cut short stops them all

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(args, cwd=str(ROOT), env={**os.environ, **env}, stdout=self._out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        AppProcess.started.append(self)

    @classmethod
    def stop_everything(cls) -> None:
        for started in cls.started:
            if started.process.poll() is None:
                started.stop(5)

    @classmethod
    def flask(cls, command: list[str], env: dict[str, str], log: Path) -> AppProcess:
        return cls([sys.executable, "-m", "flask", "--app", "app", *command], env, log)

    @classmethod
    def gunicorn(cls, port: int, workers: int, env: dict[str, str], log: Path) -> AppProcess:
        return cls([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                    "--worker-tmp-dir", "/dev/shm", "app:create_app()"], env, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if self.process.poll() is not None:
                return text in self.output()
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """kill -9, the whole process group (gunicorn's workers too)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._out.close()

    def stop(self, seconds: float = 20) -> int | None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()
        return self.process.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(port: int, seconds: float = 30) -> bool:
    return _wait_for("127.0.0.1", port, seconds)


