"""The sandbox in a subprocess, for tests and the demo: ``with SandboxProcess(db) as sandbox: ...``.

Import-light (no FastAPI): the admin calls use http.client. ``sandbox.url`` is where the
terminal's ``[upstream] url`` points; ``sandbox.options(token_file)`` is such a section.
``faults(...)``, ``outage(s)`` and ``summary()`` drive and inspect the running sandbox;
``stop()`` then ``start()`` again is an outage of any length on the same port and database.
"""
from __future__ import annotations

import http.client
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from drivers.sim.base import Simulator
from fleet import lifeline  # the simulators end with the process that started them, even on SIGKILL
from kiosk.upstream.options import UpstreamOptions

START_TIMEOUT_S = 30.0
ADMIN_TIMEOUT_S = 10.0


class SandboxProcess(Simulator):
    """``kiosk upstream-sandbox`` on loopback, in a child process with its own SQLite file."""

    def __init__(self, db: Path | str, pace: float = 1.0, port: int = 0, host: str = "127.0.0.1",
                 log: Path | str | None = None, tls: tuple[Path, Path] | None = None):
        self.db, self.pace, self.port, self.host, self.tls = Path(db), pace, port, host, tls
        self.log = Path(log) if log else self.db.with_suffix(".log")
        self.url = ""
        self._proc: subprocess.Popen | None = None

    def start(self) -> SandboxProcess:
        self.db.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen(
                lifeline.command([sys.executable, "-m", "kiosk.upstream.sandbox", "--listen", f"{self.host}:{self.port}",
                                  "--db", str(self.db), "--pace", str(self.pace),
                                  *(("--cert", str(self.tls[0]), "--key", str(self.tls[1])) if self.tls else ())]),
                stdout=subprocess.PIPE, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = _first_line(self._proc, START_TIMEOUT_S)
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the upstream sandbox did not start (see {self.log}): {line!r}")
        self.url = line.removeprefix("listening on ").strip()
        self.port = urlsplit(self.url).port or self.port  # the same port on a restart
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()

    def options(self, token_file: Path | str, timeout_s: float = 5.0, token: str = "sandbox-token",
                ca_file: str = "") -> UpstreamOptions:
        """An ``[upstream]`` section for this sandbox; writes ``token`` to ``token_file``."""
        Path(token_file).write_text(token + "\n", encoding="utf-8")
        return UpstreamOptions(url=self.url, token_file=str(token_file), ca_file=ca_file, timeout_s=timeout_s)

    def faults(self, **settings: object) -> dict:
        """Switch faults: ``delay_s``, ``error_rate``, ``hang``, ``outage_s``, ``clear`` (see faults.FaultSettings)."""
        return admin(self.url, "POST", "/admin/faults", settings)

    def clear_faults(self) -> dict:
        return self.faults(clear=True)

    def outage(self, seconds: float) -> None:
        """Refuse connections for ``seconds`` from now; returns once open connections are cut too."""
        probe = socket.create_connection((self.host, self.port), timeout=ADMIN_TIMEOUT_S)
        if self.tls:
            probe = _unverified().wrap_socket(probe, server_hostname=self.host)
        try:
            self.faults(outage_s=seconds)
            probe.recv(1)  # b"" (or a reset) when the sandbox cuts its connections
        except OSError:
            pass
        finally:
            probe.close()

    def summary(self) -> dict:
        """Every case (number, terminal, ref, submitted, pages) and record counts on the sandbox."""
        return admin(self.url, "GET", "/admin/summary")


def admin(url: str, method: str, path: str, body: dict | None = None) -> dict:
    """One call to a sandbox's admin endpoint; RuntimeError if it does not answer 200."""
    parts = urlsplit(url)
    if parts.scheme == "https":  # a test sandbox's own certificate: not verified
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=ADMIN_TIMEOUT_S,
                                           context=_unverified())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=ADMIN_TIMEOUT_S)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        reply = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise RuntimeError(f"the sandbox at {url} does not answer: {exc}") from exc
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"the sandbox refused {method} {path}: {response.status} {reply[:300]!r}")
    return json.loads(reply)


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n") and time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            byte = os.read(proc.stdout.fileno(), 1)
            if not byte:
                break
            line += byte
    return line.decode(errors="replace").strip()


def _unverified() -> ssl.SSLContext:
    """For a test sandbox's own certificate on loopback: encrypted, not verified."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
