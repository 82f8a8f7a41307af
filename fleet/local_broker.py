"""A private mosquitto on loopback, secured as deploy/mosquitto/ secures the fleet's broker.

``LocalBroker(dir, terminals).start()`` makes a CA in ``dir``, the broker's certificate, an
account (password and client certificate, from ``fleet.credentials``) for ``fleet-manager``
and for each terminal (its groups in the ACL), writes ``dir/mosquitto.conf`` from
deploy/mosquitto/mosquitto.conf and fleet.acl with these files and loopback ports, and runs
mosquitto until ``stop()``. Besides the TLS listener (client certificates required) it can
open a plain one for clients that test the rest. For ``kiosk demo`` and the tests.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from drivers.sim.base import Simulator
from fleet import credentials, lifeline
from fleet.broker import MANAGER_ACCOUNT

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto"
START_WAIT_S = 15.0
HOSTS = ("localhost", "127.0.0.1")  # the names on the broker's certificate


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc: subprocess.Popen, port: int, timeout: float = START_WAIT_S) -> None:
    """Return once ``proc`` accepts connections on ``port``; RuntimeError if it ends or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"mosquitto exited: {error.strip()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"mosquitto is not listening on {port}")


def _check_free(port: int) -> None:
    """RuntimeError if something listens on ``port`` already (a test connection would reach it, not us)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise RuntimeError(f"port {port} is in use: {exc.strerror}") from None


def config_text(deploy: str, dir: Path, tls_port: int, files: Mapping[str, Path], plain_port: int | None = None,
                log_all: bool = False) -> str:
    """The deploy config ``deploy`` with this broker's ``files`` (keys: password_file, acl_file,
    cafile, certfile, keyfile), its directory for persistence and the log, and loopback listeners."""
    own = {**{key: str(path) for key, path in files.items()}, "listener": f"{tls_port} 127.0.0.1",
           "persistence_location": f"{dir}/", "log_dest": f"file {dir / 'mosquitto.log'}"}
    lines = ["# written by fleet.local_broker from deploy/mosquitto/mosquitto.conf", "user root"]
    logged = False
    for line in deploy.splitlines():
        key, _, value = line.partition(" ")
        if not key or key.startswith("#"):
            continue
        if key == "log_type" and log_all:
            lines += [] if logged else ["log_type all"]
            logged = True
        elif key in own:
            lines.append(f"{key} {own[key]}")
        elif value.startswith("/"):
            raise RuntimeError(f"deploy/mosquitto/mosquitto.conf: no local value for {key} {value}")
        else:
            lines.append(line)
    if plain_port is not None:  # last: the TLS settings above belong to the TLS listener
        lines.append(f"listener {plain_port} 127.0.0.1")
    return "\n".join(lines) + "\n"


class LocalBroker(Simulator):
    """mosquitto in ``dir`` with accounts for ``fleet-manager`` and ``terminals`` (id → groups).

    ``tls_port`` 0 (and ``port`` 0) take free ports; ``port=None`` opens no plain listener.
    ``log_all`` logs every packet (the tests look for denials in ``log()``)."""

    def __init__(self, dir: Path | str, terminals: Mapping[str, tuple[str, ...]], *, tls_port: int = 0,
                 port: int | None = 0, log_all: bool = False):
        self.dir = Path(dir)
        self.terminals = dict(terminals)
        self.tls_port, self.port, self.log_all = tls_port, port, log_all
        self.ca_dir = self.dir / "ca"
        self.ca_file = self.ca_dir / credentials.CA_CERT
        self.accounts: dict[str, credentials.Issued] = {}
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"mqtts://localhost:{self.tls_port}"

    def password(self, username: str) -> str:
        return self.accounts[username].password_file.read_text().strip()

    def log(self) -> str:
        return (self.dir / "mosquitto.log").read_text(errors="replace")

    def start(self) -> LocalBroker:
        if shutil.which("mosquitto") is None:
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto mosquitto-clients)")
        self.dir.mkdir(parents=True, exist_ok=True)
        files = self._issue()
        if not self.tls_port:
            self.tls_port = free_port()
        if self.port == 0:
            self.port = free_port()
            while self.port == self.tls_port:  # both were free at once: the kernel may hand one out twice
                self.port = free_port()
        for port in (self.tls_port, self.port):
            if port is not None:
                _check_free(port)
        conf = self.dir / "mosquitto.conf"
        conf.write_text(config_text((DEPLOY / "mosquitto.conf").read_text(encoding="utf-8"), self.dir,
                                    self.tls_port, files, self.port, self.log_all), encoding="utf-8")
        self._proc = subprocess.Popen(lifeline.command(["mosquitto", "-c", str(conf)]),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for port in (self.tls_port, self.port):
                if port is not None:
                    wait_listening(self._proc, port)
        except RuntimeError:
            self.stop()
            raise
        return self

    def _issue(self) -> dict[str, Path]:
        """The CA, the broker's certificate, the password file, the ACL and every account."""
        credentials.make_ca(self.ca_dir, "local fleet CA")
        server_crt, server_key = credentials.sign(self.ca_dir, self.dir, "broker", hosts=HOSTS, client=False)
        certs, passwd, acl = self.dir / "certs", self.dir / "passwd", self.dir / "acl"
        shutil.copy(DEPLOY / "fleet.acl", acl)
        passwd.unlink(missing_ok=True)
        manager = credentials.issue_account(MANAGER_ACCOUNT, passwd, certs)
        self.accounts = {MANAGER_ACCOUNT: credentials.Issued(MANAGER_ACCOUNT, manager.password_file,
                                                             *credentials.sign(self.ca_dir, certs, MANAGER_ACCOUNT))}
        for kiosk, groups in self.terminals.items():
            self.accounts[kiosk] = credentials.issue_terminal(kiosk, passwd_file=passwd, acl_file=acl, out_dir=certs,
                                                              groups=groups, ca_dir=self.ca_dir)
        return {"password_file": passwd, "acl_file": acl, "cafile": self.ca_file, "certfile": server_crt,
                "keyfile": server_key}

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        lifeline.end(proc)
        if proc.stderr:
            proc.stderr.close()
