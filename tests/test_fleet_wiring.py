"""The terminal in the fleet: ``Terminal`` with a ``[fleet]`` section against a real mosquitto.

The terminal runs headless here (in this process, or in its own for restart and kill -9:
tests/_kiosk_child.py); its receipt printer is the ESC/POS simulator on a loopback port,
uploads go to a local HTTPS server with a certificate of the test CA. The manager is a
paho client with the manager's account. The screen's part (the maintenance page, a real
window capture) is tested under Xvfb in tests/ui/test_fleet_screen.py.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tomllib
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event as outcome, given, settings, strategies as st

from drivers.sim.escpos_printer import Fault, SimulatedEscposPrinter
from fleet import protocol as p
from kiosk import config, config_file
from kiosk.fleet_link import RESTART_EXIT_CODE, RUNNING
from kiosk.session import EndReason
from kiosk.terminal import Terminal
from tests._mosquitto import ROOT, broker_fixtures
from tests._upload_server import upload_server

pytestmark = pytest.mark.timeout(120)
KIOSKS = {"kiosk-w1": ("county-w",), "kiosk-w2": ()}


mq, manager = broker_fixtures("wiring", KIOSKS)


@pytest.fixture(scope="module")
def printer(tmp_path_factory):
    with SimulatedEscposPrinter(port=0, run_dir=tmp_path_factory.mktemp("printer")) as sim:
        yield sim


def write_config(mq, tmp_path, kiosk="kiosk-w1", printer=None, **fleet) -> config.Config:
    """A kiosk config file with a [fleet] section for ``kiosk`` over TLS."""
    issued = mq.accounts[kiosk]
    raw = {
        "terminal": {"id": kiosk, "station": "东岭村便民服务站"},
        "session": {"idle_timeout_s": 60.0},
        "fleet": {"broker": mq.tls_url, "ca_file": str(mq.ca_file), "cert_file": str(issued.cert_file),
                  "key_file": str(issued.key_file), "password_file": str(issued.password_file),
                  "buffer_dir": str(tmp_path / "fleet"), "groups": list(KIOSKS[kiosk]),
                  "health_interval_s": 3600, "metrics_interval_s": 3600, **fleet},
        "devices": {"receipt": printer.config_section()} if printer else {},
    }
    path = tmp_path / "kiosk.toml"
    path.write_text(config_file.dumps(raw), encoding="utf-8")
    return config.load(path)


@pytest.fixture
def terminal(mq, manager, tmp_path):
    """A started terminal in the fleet, its birth seen by the manager."""
    t = Terminal(write_config(mq, tmp_path))
    t.start()
    online(manager, t)
    yield t
    t.close()


def online(manager, terminal) -> p.State:
    return p.State.parse(manager.on(p.state_topic(terminal.config.terminal.id),
                                    lambda b: terminal.fleet.agent.boot_id.encode() in b and b'"online"' in b).payload)


def job(job_id, op, args=None) -> bytes:
    return p.Job(job_id, op, args or {}, p.now(), p.now() + timedelta(minutes=5), "tester").to_json()


def run_job(manager, kiosk, job_id, op, args=None) -> p.JobStatus:
    """Issue a job and wait for its final status."""
    assert manager.publish(p.job_topic(kiosk, job_id), job(job_id, op, args)) == 0
    while True:
        status = p.JobStatus.parse(manager.on(p.job_status_topic(kiosk, job_id)).payload)
        if status.status in p.FINAL_STATUSES:
            return status


def event(manager, kiosk, type, boot_id="") -> p.Event:
    return p.Event.parse(manager.on(p.events_topic(kiosk),
                                    lambda b: f'"{type}"'.encode() in b and boot_id.encode() in b).payload)


def state(manager, kiosk, value, boot_id="") -> p.State:
    return p.State.parse(manager.on(p.state_topic(kiosk),
                                    lambda b: f'"{value}"'.encode() in b and boot_id.encode() in b).payload)


def test_without_a_fleet_section_nothing_of_the_fleet_is_loaded():
    code = "import sys; from kiosk.terminal import Terminal; from kiosk import config; " \
           "t = Terminal(config.parse({})); print(t.fleet, 'paho' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "False"]


def test_online_at_start_with_its_version_station_and_a_start_event(mq, manager, tmp_path):
    t = Terminal(write_config(mq, tmp_path))
    t.start()
    try:
        birth = online(manager, t)
        assert (birth.version, birth.station, birth.groups) == ("0.1.0", "东岭村便民服务站", ("county-w",))
        started = event(manager, "kiosk-w1", "app.started")
        assert started.severity == "info" and started.stamp.boot_id == birth.stamp.boot_id
    finally:
        t.close()
    bye = state(manager, "kiosk-w1", "offline")
    assert bye.stamp.boot_id == birth.stamp.boot_id and not (tmp_path / "fleet" / RUNNING).exists()


def test_a_maintenance_job_holds_the_terminal_across_a_restart_until_it_is_released(mq, manager, tmp_path):
    cfg = write_config(mq, tmp_path)
    t = Terminal(cfg)
    t.start()
    online(manager, t)
    try:
        assert run_job(manager, "kiosk-w1", "mnt-1", "maintenance", {"on": True}).status == p.SUCCEEDED
        assert state(manager, "kiosk-w1", "maintenance").stamp.boot_id == t.fleet.agent.boot_id
        assert t.held_for_maintenance
    finally:
        t.close()
    again = Terminal(cfg)
    again.start()
    try:
        birth = p.State.parse(manager.on(p.state_topic("kiosk-w1"),
                                         lambda b: again.fleet.agent.boot_id.encode() in b).payload)
        assert birth.state == "maintenance" and again.held_for_maintenance
        assert run_job(manager, "kiosk-w1", "mnt-2", "maintenance", {"on": False}).status == p.SUCCEEDED
        assert state(manager, "kiosk-w1", "online").stamp.boot_id == again.fleet.agent.boot_id
        assert not again.held_for_maintenance
    finally:
        again.close()


def test_set_config_writes_the_file_applies_what_it_can_and_rolls_back(mq, manager, terminal):
    path = terminal.config.path
    before = path.read_text(encoding="utf-8")
    done = run_job(manager, "kiosk-w1", "cfg-1", "set_config",
                   {"session": {"idle_timeout_s": 90}, "display": {"dpi": 120}})
    assert done.status == p.SUCCEEDED and done.detail["restart_needed"] == ["display"]
    written = tomllib.loads(path.read_text(encoding="utf-8"))
    assert written["session"]["idle_timeout_s"] == 90 and written["display"]["dpi"] == 120
    assert written["fleet"] == tomllib.loads(before)["fleet"]
    assert (path.parent / "kiosk.toml.bak").read_text(encoding="utf-8") == before
    assert terminal.session.idle_timeout == 90 and terminal.config.session.idle_timeout_s == 90
    assert terminal.config.display.dpi == 102.0  # the running window keeps its size until the restart

    now = path.read_text(encoding="utf-8")
    bad = run_job(manager, "kiosk-w1", "cfg-2", "set_config", {"session": {"idle_timeout_s": 1}})
    assert bad.status == p.REJECTED and "idle_timeout_s" in bad.detail["reason"]
    assert path.read_text(encoding="utf-8") == now

    # a lone surrogate is valid JSON and a valid str, but cannot be written as a UTF-8 file
    payload = job("cfg-3", "set_config").replace(b'"args":{}', b'"args":{"terminal":{"station":"\\ud800"}}')
    assert manager.publish(p.job_topic("kiosk-w1", "cfg-3"), payload) == 0
    failed = p.JobStatus.parse(manager.on(p.job_status_topic("kiosk-w1", "cfg-3"),
                                          lambda b: b"FAILED" in b or b"SUCCEEDED" in b).payload)
    assert failed.status == p.FAILED and failed.detail["code"] == "job.config_rolled_back"
    assert path.read_text(encoding="utf-8") == now and terminal.config.terminal.station == "东岭村便民服务站"


def test_logs_go_only_to_https_hosts_of_the_allow_list(mq, manager, terminal, tmp_path):
    logging.getLogger("kiosk.test").warning("a line for the fleet to collect")
    with upload_server(mq.dir / "ca", tmp_path) as (url, received):
        done = run_job(manager, "kiosk-w1", "logs-1", "collect_logs", {"upload_url": f"{url}/logs", "lines": 500})
        assert done.status == p.SUCCEEDED and done.detail["url"] == f"{url}/files/1"
        assert b"a line for the fleet to collect" in received[0][2]
        other = url.replace("localhost", "127.0.0.1")  # the same server, but not the broker's host
        refused = run_job(manager, "kiosk-w1", "logs-2", "collect_logs", {"upload_url": f"{other}/logs"})
        assert refused.status == p.REJECTED and refused.detail["code"] == "job.upload_host"
        assert "127.0.0.1" in refused.detail["reason"] and len(received) == 1
        shot = run_job(manager, "kiosk-w1", "shot-1", "screenshot", {"upload_url": f"{url}/shot"})
        assert shot.status == p.FAILED and "without a screen" in shot.detail["reason"]


def test_ops_not_supported_yet_are_rejected_with_what_to_do(mq, manager, terminal):
    for job_id, op, hint in (("pc-1", "push_content", "content file"), ("up-1", "update", "on site")):
        answer = run_job(manager, "kiosk-w1", job_id, op)
        assert answer.status == p.REJECTED and hint in answer.detail["reason"]


def test_printer_faults_are_events_and_visits_are_counted(mq, manager, tmp_path, printer):
    t = Terminal(write_config(mq, tmp_path, printer=printer, metrics_interval_s=1))
    t.start()
    online(manager, t)
    try:
        printer.fault = Fault.PAPER_NEAR_END
        near = event(manager, "kiosk-w1", "printer.paper_near_end")
        assert (near.severity, near.device) == ("warning", "receipt")
        printer.fault = Fault.PAPER_OUT
        assert event(manager, "kiosk-w1", "printer.paper_out").severity == "critical"
        printer.fault = Fault.NONE
        assert event(manager, "kiosk-w1", "printer.paper_ok").severity == "info"
        t.session.start()
        t.session.end(EndReason.FINISHED)
        metrics = p.Metrics.parse(manager.on(p.metrics_topic("kiosk-w1"), lambda b: b'"sessions":1' in b).payload)
        assert metrics.stamp.boot_id == t.fleet.agent.boot_id
    finally:
        t.close()
        printer.fault = Fault.NONE


class Child:
    """tests/_kiosk_child.py: a headless terminal in its own process."""

    def __init__(self, cfg: config.Config):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "_kiosk_child.py"), str(cfg.path)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, self.boot_id = self.process.stdout.readline().split()
        assert ready == "ready"

    def say(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "ok"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()


def test_restart_app_waits_for_the_visit_then_exits_with_the_restart_code(mq, manager, tmp_path):
    cfg = write_config(mq, tmp_path, "kiosk-w2")
    child = Child(cfg)
    try:
        state(manager, "kiosk-w2", "online", child.boot_id)
        child.say("visit")
        assert run_job(manager, "kiosk-w2", "rst-1", "restart_app").status == p.SUCCEEDED
        assert child.process.poll() is None  # a visit is in progress: the restart waits for its end
        child.say("end")
        assert child.process.wait(30) == RESTART_EXIT_CODE
        state(manager, "kiosk-w2", "offline", child.boot_id)
    finally:
        child.close()
    assert not (tmp_path / "fleet" / RUNNING).exists()  # a clean end: the next start is no crash
    child = Child(cfg)  # started again, as systemd would
    try:
        event(manager, "kiosk-w2", "app.started", child.boot_id)  # the running marker is written by now
        os.kill(child.process.pid, signal.SIGKILL)
        child.process.wait()
    finally:
        child.close()
    child = Child(cfg)
    try:
        crash = event(manager, "kiosk-w2", "app.crash_restart", child.boot_id)
        assert crash.severity == "warning" and "ended unexpectedly" in crash.message
    finally:
        child.close()


def test_missing_credentials_leave_the_terminal_serving_outside_the_fleet(mq, tmp_path, caplog):
    cfg = write_config(mq, tmp_path, cert_file=str(tmp_path / "missing.crt"))
    t = Terminal(cfg)
    try:
        assert t.fleet is None and not t.held_for_maintenance
        assert "cannot join the fleet" in caplog.text
    finally:
        t.close()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                      max_size=3), max_leaves=6)
field_names = st.sampled_from(["id", "station", "language", "idle_timeout_s", "countdown_s", "dpi", "orientation",
                               "pin", "broker", "groups", "health_interval_s", "driver", "bogus"])
sections = st.sampled_from(["terminal", "session", "display", "maintenance", "fleet", "devices", "bogus"])
partial_configs = st.dictionaries(sections, st.dictionaries(field_names, json_values, max_size=3) | json_values,
                                  max_size=3)


@pytest.fixture(scope="module")
def unconnected(mq, tmp_path_factory):
    """A terminal whose agent never connects: its job runner is called directly."""
    t = Terminal(write_config(mq, tmp_path_factory.mktemp("hostile")))
    yield t
    t.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=partial_configs)
def test_whatever_set_config_receives_the_file_stays_a_valid_config(unconnected, args):
    job_id = f"h-{uuid.uuid4().hex[:12]}"
    unconnected.fleet.agent.jobs.run(p.Job(job_id, "set_config", args, p.now(), p.now() + timedelta(minutes=5), "x"))
    status = unconnected.fleet.agent.jobs.store.get(job_id)["status"]
    assert status in (p.SUCCEEDED, p.REJECTED, p.FAILED)
    outcome(status)  # --hypothesis-show-statistics: how many were applied
    on_disk = config.load(unconnected.config.path)  # never a torn or invalid file
    assert on_disk.session == unconnected.config.session
