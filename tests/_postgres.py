"""A private PostgreSQL server on loopback, for the manager's tests and bench/fleet_ingest.py.

``Server.start()`` runs ``initdb`` into a fresh temp dir and ``pg_ctl start`` on a free port
(TCP on 127.0.0.1 only, its unix socket in the same dir, ``trust`` for local connections);
``stop()`` shuts it down and removes the dir. PostgreSQL refuses to run as root: as root the
dir is given to the ``postgres`` account and the commands run through ``runuser``.
``new_database()`` creates an empty database and returns its URL, so each test has its own.

``shared()`` is one server for the whole test process (started on first use, stopped at
exit). ``url_for(kind, tmp)`` is a fresh database of either kind; the ``db_url`` fixture runs a
test once on a SQLite file and once on a new database of ``shared()`` (import it into the test
module). Without PostgreSQL's binaries (deploy/bootstrap.sh installs them) the PostgreSQL
runs are skipped, saying why.
"""
from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from tests._mosquitto import free_port

BIN_GLOB = "/usr/lib/postgresql/*/bin"
SERVER_OWNER = "postgres"  # the account the server runs as when we are root
START_WAIT_S = 60


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian's layout), or None."""
    found = sorted(glob.glob(BIN_GLOB), key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0)
    return Path(found[-1]) if found else None


class Server:
    """One private server; ``durable=False`` (tests) turns off fsync, as nothing must survive a crash."""

    def __init__(self, durable: bool = False):
        self.durable = durable
        self.port = 0
        self.dir: Path | None = None
        self._count = 0
        self._lock = threading.Lock()

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed (deploy/bootstrap.sh installs it)")
        argv = [str(binaries / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVER_OWNER, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=START_WAIT_S + 30)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return done

    def start(self) -> Server:
        self.dir = Path(tempfile.mkdtemp(prefix="fleet-pg-"))  # in /tmp itself: short socket path, reachable
        if os.geteuid() == 0:
            shutil.chown(self.dir, SERVER_OWNER, SERVER_OWNER)
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                  "--no-sync", "--no-instructions")
        self.port = free_port()
        settings = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.dir}", "-c max_connections=200"]
        if not self.durable:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        try:
            self._run("pg_ctl", "-D", str(data), "-l", str(self.dir / "server.log"), "-o", " ".join(settings),
                      "-w", "-t", str(START_WAIT_S), "start")
        except RuntimeError as exc:
            log = self.dir / "server.log"
            self._remove()
            raise RuntimeError(f"{exc}\n{log.read_text(errors='replace') if log.exists() else ''}") from None
        return self

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        finally:
            self._remove()

    def _remove(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def cpu_seconds(self) -> float:
        """The CPU time (user and system) the server's processes have used so far, from /proc: the
        postmaster's own and its ended children's, and that of the children still running."""
        postmaster = int((self.dir / "data" / "postmaster.pid").read_text().split()[0])  # type: ignore[operator]
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()  # from the state on: ppid, …, utime at 11
            except OSError:
                continue
            if int(stat.parent.name) == postmaster:
                ticks += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
            elif int(fields[1]) == postmaster:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "fleet") -> str:
        """A new, empty database on this server: its URL."""
        import psycopg

        with self._lock:
            self._count += 1
            name = f"{prefix}_{os.getpid()}_{self._count}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


_shared: Server | None = None


def shared() -> Server:
    """This process's server, started on first use and stopped when the process exits."""
    global _shared
    if _shared is None:
        _shared = Server().start()
        atexit.register(_shared.stop)
    return _shared


DATABASES = ("sqlite", "postgresql")


def url_for(kind: str, tmp: Path) -> str:
    """A fresh database of ``kind``: a SQLite file in ``tmp``, or a new database on ``shared()``."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'fleet.db'}"
    if bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (deploy/bootstrap.sh installs it)")
    return shared().new_database()


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for one test, once on SQLite and once on PostgreSQL."""
    return url_for(request.param, tmp_path)
