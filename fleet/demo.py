"""The fleet of ``kiosk demo``: a private broker, ``fleet-manager`` with its dashboard, ``fleet-sim``.

All on loopback, under one directory, started from the thread that will stop them (children
end with this process even if it is killed: ``fleet.lifeline``):

- ``start_broker``: mosquitto as deploy/mosquitto/ secures it (``fleet.local_broker``) on the
  port of the terminal's ``[fleet] broker``, with accounts for the manager, the demo terminal
  (its files copied to where its ``[fleet]`` section names them) and each simulated terminal;
- ``start_sims``: ``fleet-sim`` with that many terminals over TLS, each with its own account;
- ``start_manager``: ``fleet-manager`` over HTTPS (a certificate from the broker's CA), SQLite
  in the directory, the registry of every terminal, and the dashboard's operator ``operator``
  with a new password each start (``password``) and an API token for ``kioskctl`` (``kioskctl()``).

A start begins from scratch (new CA, new database); the terminal's offline buffer is its own.
"""
from __future__ import annotations

import contextlib
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fleet import credentials, lifeline, sim_layout
from fleet.broker import MANAGER_ACCOUNT
from fleet.local_broker import HOSTS, LocalBroker

if TYPE_CHECKING:
    from kiosk.fleet_options import FleetOptions

DEMO_MANAGER_PORT = 18443
DEMO_SIMS = 20
SIM_PREFIX, SIM_SEED, SIM_TOWNSHIPS = "sim", 0, 4  # the simulated fleet's layout (fleet.sim_layout)
OPERATOR, OPERATOR_ROLE = "operator", "operator"  # may watch, acknowledge, put a terminal into maintenance, screenshot
TOWNSHIP, TIER, RESIDENTS, STAFF = "湖光镇", "standard", 1200, 2  # the demo terminal's station in the registry
START_WAIT_S = 90.0  # the manager's first start imports much; a busy machine is slow
COMMAND_WAIT_S = 120.0


class DemoFleet:
    """The demo's fleet under ``dir``; ``stop()`` ends whatever was started."""

    def __init__(self, dir: Path | str, manager_port: int = DEMO_MANAGER_PORT):
        self.dir = Path(dir)
        self.manager_port = manager_port
        self.password = ""
        self.broker: LocalBroker | None = None
        self.sims: list[sim_layout.SimTerminal] = []
        self._stack = contextlib.ExitStack()

    @property
    def url(self) -> str:
        """The dashboard."""
        return f"https://localhost:{self.manager_port}"

    def start_broker(self, kiosk: str, options: FleetOptions, sims: int = DEMO_SIMS) -> LocalBroker:
        """The broker on the port of ``options.broker``, with every account; ``kiosk``'s files where ``options`` say."""
        port = urlsplit(options.broker).port
        if not port:
            raise RuntimeError(f"the demo's [fleet] broker {options.broker!r} names no port")
        for part in ("broker", "manager"):
            shutil.rmtree(self.dir / part, ignore_errors=True)
        self.sims = sim_layout.layout(sims, SIM_PREFIX, SIM_SEED, SIM_TOWNSHIPS)
        terminals = {kiosk: options.groups, **{t.id: t.groups for t in self.sims}}
        broker = LocalBroker(self.dir / "broker", terminals, tls_port=port, port=None)
        broker.start()
        self._stack.callback(broker.stop)
        self.broker = broker
        issued = broker.accounts[kiosk]
        for source, target in ((broker.ca_file, options.ca_file), (issued.password_file, options.password_file),
                               (issued.cert_file, options.cert_file), (issued.key_file, options.key_file)):
            if target and source:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
        return broker

    def start_sims(self) -> int:
        """``fleet-sim`` with the terminals ``start_broker`` made accounts for; returns how many."""
        broker = self._started_broker()
        creds = broker.dir / "certs"
        self._process("fleet-sim", [
            "fleet.sim", "--broker", broker.tls_url, "--count", str(len(self.sims)), "--prefix", SIM_PREFIX,
            "--seed", str(SIM_SEED), "--township-count", str(SIM_TOWNSHIPS), "--ca-file", str(broker.ca_file),
            "--password-file", str(creds / "{id}.password"), "--cert-file", str(creds / "{id}.crt"),
            "--key-file", str(creds / "{id}.key")])
        return len(self.sims)

    def start_manager(self, kiosk: str, station: str, groups: tuple[str, ...]) -> str:
        """``fleet-manager`` with the registry and the operator; returns the dashboard's address once it answers."""
        broker = self._started_broker()
        home = self.dir / "manager"
        home.mkdir(parents=True, exist_ok=True)
        db = f"sqlite:///{home / 'fleet.db'}"
        group = groups[0] if groups else "demo"
        registry = home / "registry.csv"
        sim_layout.write_csv([*self.sims, sim_layout.SimTerminal(kiosk, station, TOWNSHIP, group, TIER, RESIDENTS,
                                                                  STAFF)], registry)
        self.password = secrets.token_urlsafe(9)
        password_file = home / "operator.password"
        credentials.write_private(password_file, self.password.encode() + b"\n")
        _command(home, "import-registry", str(registry), "--db", db)
        _command(home, "add-operator", OPERATOR, "--role", OPERATOR_ROLE, "--password-file", str(password_file),
                 "--db", db)
        token = _command(home, "add-token", OPERATOR, "--label", "kiosk demo", "--db", db)
        credentials.write_private(home / "operator.token", token.encode())
        cert, key = credentials.sign(broker.ca_dir, home, "dashboard", hosts=HOSTS, client=False)
        account = broker.accounts[MANAGER_ACCOUNT]
        proc = self._process("fleet-manager", [
            "fleet.manager", "--broker", broker.tls_url, "--db", db, "--listen", f"127.0.0.1:{self.manager_port}",
            "--tls-cert", str(cert), "--tls-key", str(key), "--public-url", self.url,
            "--mqtt-password-file", str(account.password_file), "--ca-file", str(broker.ca_file),
            "--mqtt-cert", str(account.cert_file), "--mqtt-key", str(account.key_file), "--log-level", "WARNING"])
        _wait_answering(proc, f"{self.url}/login", broker.ca_file, self.dir / "fleet-manager.log")
        return self.url

    def kioskctl(self) -> str:
        """A ``kioskctl`` command line for the running manager, as the demo operator."""
        broker = self._started_broker()
        return (f"kioskctl --url {self.url} --ca-file {broker.ca_file} "
                f"--token-file {self.dir / 'manager' / 'operator.token'} devices")

    def stop(self) -> None:
        self._stack.close()

    def _started_broker(self) -> LocalBroker:
        if self.broker is None:
            raise RuntimeError("the fleet broker is not running")
        return self.broker

    def _process(self, name: str, module_args: list[str]) -> subprocess.Popen:
        """``python -m MODULE ARGS`` as a child that ends with the demo, its output in ``dir/NAME.log``."""
        with open(self.dir / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(lifeline.command([sys.executable, "-m", *module_args]), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log)
        self._stack.callback(lifeline.end, proc)
        return proc


def _command(home: Path, *args: str) -> str:
    """One ``fleet-manager`` console command, what it printed; RuntimeError with what it said if it fails."""
    done = subprocess.run([sys.executable, "-m", "fleet.manager", *args], cwd=home, capture_output=True, text=True,
                          timeout=COMMAND_WAIT_S)
    if done.returncode != 0:
        raise RuntimeError(f"fleet-manager {args[0]}: {(done.stderr or done.stdout).strip()}")
    return done.stdout.strip()


def _wait_answering(proc: subprocess.Popen, url: str, ca_file: Path, log: Path) -> None:
    """Return once ``url`` answers over HTTPS; RuntimeError if ``proc`` ends or it takes too long."""
    context = ssl.create_default_context(cafile=str(ca_file))
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise RuntimeError(f"fleet-manager exited ({proc.returncode}): {' '.join(tail)} (see {log})")
        with contextlib.suppress(OSError):  # URLError is an OSError: not listening yet
            with urllib.request.urlopen(url, context=context, timeout=5) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"fleet-manager did not answer at {url} within {START_WAIT_S:.0f} s (see {log})")

