"""The fleet of ``kiosk demo``, started as the demo starts it (``kiosk.demo.start_fleet``): a private
mosquitto (TLS, the deploy ACL), ``fleet-manager`` over HTTPS and ``fleet-sim`` terminals. The demo
terminal's real agent, from the ``[fleet]`` section of the demo's generated config, shows online in
the manager's API, where the printed operator signs in, and in the printed ``kioskctl``; stopping leaves no process behind; a part
that cannot start is said in a line and the rest goes on.

The demo's fixed ports are swapped for free ones, so a running demo does not disturb the test.
"""
from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import tomllib

import httpx
import pytest

from drivers.sim.station import SimulatedStation
from fleet.demo import DEMO_SIMS, OPERATOR, OPERATOR_ROLE, DemoFleet
from kiosk import config
from kiosk.demo import start_fleet
from kiosk.fleet_agent import FleetAgent
from tests._fleet_manager import eventually
from tests._mosquitto import WAIT_S, free_port
from tests._processes import alive, command_line, descendants

pytestmark = pytest.mark.timeout(300)


def demo_config(run_dir, broker_port: int) -> config.Config:
    """The demo's generated config for ``run_dir``, its broker on ``broker_port``."""
    raw = tomllib.loads(SimulatedStation(run_dir).config_text())
    raw["fleet"]["broker"] = raw["fleet"]["broker"].replace(":18883", f":{broker_port}")
    return config.parse(raw, run_dir / "kiosk.toml")


class Said:
    """What the demo says, as (message id, parameters)."""

    def __init__(self):
        self.lines: list[tuple[str, dict]] = []

    def __call__(self, msgid: str, **params) -> None:
        self.lines.append((msgid, params))

    def param(self, name: str, line: str = ""):
        """``name`` of the first line (starting with ``line``) that has it."""
        return next(params[name] for msgid, params in self.lines if name in params and msgid.startswith(line))

    def failures(self) -> list[str]:
        return [msgid for msgid, _ in self.lines if "could not start" in msgid]


def started_here(before: set[int]) -> list[int]:
    return [pid for pid in descendants(os.getpid()) if pid not in before]


def test_the_demo_fleet_comes_up_with_the_demo_terminal_online_and_leaves_nothing_behind(tmp_path):
    cfg = demo_config(tmp_path, free_port())
    fleet, said, before = DemoFleet(tmp_path / "fleet", manager_port=free_port()), Said(), set(descendants(os.getpid()))
    try:
        start_fleet(fleet, cfg, said)
        assert said.failures() == []
        children = started_here(before)
        commands = " ".join(command_line(pid) for pid in children)
        assert all(part in commands for part in ("mosquitto", "fleet.manager", "fleet.sim", "spawn_main"))
        assert said.param("count") == DEMO_SIMS and said.param("url", "Fleet dashboard") == fleet.url
        agent = FleetAgent(cfg.terminal.id, cfg.fleet, station=cfg.terminal.station, version="demo")
        agent.start()
        try:
            tls = ssl.create_default_context(cafile=cfg.fleet.ca_file)  # the CA the demo handed the terminal
            with httpx.Client(base_url=fleet.url, verify=tls, timeout=WAIT_S) as http:
                signed_in = http.post("/api/v1/login", json={"name": said.param("name"),
                                                              "password": said.param("password")})
                assert signed_in.json() == {"name": OPERATOR, "role": OPERATOR_ROLE}
                demo = eventually(lambda: http.get("/api/v1/devices", params={"q": "demo-001"}).json()["devices"],
                                  lambda found: found and found[0]["state"] == "online")
                assert (demo[0]["id"], demo[0]["station"], demo[0]["township"]) == \
                    ("demo-001", "湖光镇东岭村便民服务站", "湖光镇")
                overview = eventually(lambda: http.get("/api/v1/overview").json(),
                                      lambda o: o["by_state"].get("online") == DEMO_SIMS + 1)
                assert overview["devices"] == DEMO_SIMS + 1
            kioskctl = said.param("command").split()  # as printed: kioskctl --url … --token-file … devices
            assert kioskctl[0] == "kioskctl"
            listed = subprocess.run([sys.executable, "-m", "fleet.kioskctl", "--lang", "en", *kioskctl[1:]],
                                    capture_output=True, text=True, timeout=60)
            assert listed.returncode == 0 and "demo-001" in listed.stdout, listed.stderr
        finally:
            agent.stop()
    finally:
        fleet.stop()
    assert children and not [pid for pid in children if alive(pid)]


def test_a_busy_broker_port_is_said_and_nothing_else_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        cfg = demo_config(tmp_path, busy.getsockname()[1])
        fleet, said, before = DemoFleet(tmp_path / "fleet", manager_port=free_port()), Said(), set(descendants(os.getpid()))
        start_fleet(fleet, cfg, said)
        fleet.stop()
    assert said.failures() == ["The fleet broker could not start (the terminal stays out of the fleet): {error}"]
    assert "in use" in str(said.param("error"))
    assert not [pid for pid in started_here(before) if alive(pid)]


def test_a_busy_dashboard_port_is_said_and_the_broker_and_terminals_run_on(tmp_path):
    cfg = demo_config(tmp_path, free_port())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        fleet, said = DemoFleet(tmp_path / "fleet", manager_port=busy.getsockname()[1]), Said()
        try:
            start_fleet(fleet, cfg, said)
            assert said.failures() == ["The fleet manager could not start (no dashboard): {error}"]
            assert "fleet-manager exited" in str(said.param("error"))
            assert fleet.broker is not None and "fleet.sim" in " ".join(command_line(p) for p in descendants(os.getpid()))
        finally:
            fleet.stop()
