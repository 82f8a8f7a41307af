"""The kiosk's fleet agent against a real mosquitto on loopback.

The manager's side is played by a paho client with the manager's account (``Watcher``).
Hooks the kiosk supplies (reboot, restart, screen capture, applying a config) are
recorders here: what they would do to the machine cannot run in a test. The device
whose status changes is a real ``drivers.base.Device`` subclass set by the test.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from drivers.base import Device, Status
from fleet import protocol as p
from fleet.models import Device as DeviceRow
from kiosk.fleet_agent import FleetAgent, FleetOptions
from kiosk.fleet_jobs import JobHooks
from tests._fleet_manager import manager as fleet_manager
from tests._mosquitto import ROOT, Proxy, Watcher, broker_fixtures, free_port
from tests._upload_server import upload_server

pytestmark = pytest.mark.timeout(120)
GROUPS = {"kiosk-a": ("county-x",), "kiosk-b": (), "kiosk-c": (), "kiosk-d": (), "kiosk-e": (), "kiosk-f": ()}


mq, manager = broker_fixtures("agent", GROUPS)


class Printer(Device):
    kind = "printer"

    def probe(self) -> None:
        self._set_state(Status.ONLINE, paper="ok")


class Recorder:
    def __init__(self):
        self.calls: list[tuple] = []

    def hook(self, name):
        return lambda *args: self.calls.append((name, *args))


def make_agent(mq, tmp_path, kiosk="kiosk-a", *, broker=None, tls=False, **kwargs) -> FleetAgent:
    issued = mq.accounts[kiosk]
    extra = {"ca_file": str(mq.ca_file), "cert_file": str(issued.cert_file), "key_file": str(issued.key_file)} \
        if tls else {}
    options = FleetOptions(broker=broker or (mq.tls_url if tls else mq.url), password_file=str(issued.password_file),
                           buffer_dir=str(tmp_path / kiosk), groups=GROUPS[kiosk], health_interval_s=3600,
                           metrics_interval_s=3600, mqtt_version=kwargs.pop("mqtt_version", "5"), **extra)
    return FleetAgent(kiosk, options, station="station-1", version="0.1.0", **kwargs)


def start(agent: FleetAgent, manager: Watcher) -> p.State:
    """Start ``agent`` and wait for its birth: by then its job subscriptions are in place."""
    agent.start()
    return p.State.parse(manager.on(p.state_topic(agent.id),
                                    lambda b: agent.boot_id.encode() in b and b'"online"' in b).payload)


def state_of(msg) -> p.State:
    return p.State.parse(msg.payload)


def statuses(manager, kiosk, job, until=p.FINAL_STATUSES) -> list[p.JobStatus]:
    seen = []
    while not seen or seen[-1].status not in until:
        seen.append(p.JobStatus.parse(manager.on(p.job_status_topic(kiosk, job)).payload))
    return seen


def job(job_id, op, args=None, expires_in=timedelta(minutes=5)) -> bytes:
    return p.Job(job_id, op, args or {}, p.now(), p.now() + expires_in, "tester").to_json()


def test_retained_state_and_last_will_when_the_process_is_killed(mq, manager, tmp_path):
    issued = mq.accounts["kiosk-b"]
    child = subprocess.Popen([sys.executable, str(ROOT / "tests" / "_fleet_child.py"), "kiosk-b", mq.url,
                              str(issued.password_file), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        boot_id = child.stdout.readline().strip()
        online = state_of(manager.on(p.state_topic("kiosk-b"), lambda b: boot_id.encode() in b))
        assert (online.state, online.stamp.boot_id, online.station, online.version) == ("online", boot_id, "test-station", "0.1.0")
        os.kill(child.pid, signal.SIGKILL)
        will = state_of(manager.on(p.state_topic("kiosk-b"),
                                   lambda b: b'"offline"' in b and boot_id.encode() in b))
        assert (will.stamp.boot_id, will.conn) == (boot_id, online.conn)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    late = Watcher(mq, subscribe=(p.state_topic("kiosk-b"),))  # a manager that starts later
    try:
        msg = late.next()
        assert msg.retain and state_of(msg).state == "offline"
    finally:
        late.close()


@pytest.mark.parametrize("tls", [False, True])
def test_health_at_connect_and_at_once_on_a_device_change(mq, manager, tmp_path, tls):
    printer = Printer("receipt")
    printer.probe()
    agent = make_agent(mq, tmp_path, "kiosk-c", devices=_DeviceList([printer]), tls=tls)
    start(agent, manager)
    try:
        first = p.Health.parse(manager.on(p.health_topic("kiosk-c")).payload)
        assert first.devices["receipt"].as_dict() == {"kind": "printer", "status": "online", "detail": {"paper": "ok"}}
        printer._set_state(Status.HARDWARE_ERROR, paper="out")
        changed = p.Health.parse(manager.on(p.health_topic("kiosk-c"), lambda b: b"hardware_error" in b).payload)
        assert changed.devices["receipt"].detail["paper"] == "out" and changed.stamp.seq > first.stamp.seq
        assert changed.system.uptime_s is not None
    finally:
        agent.stop()
        printer.close()


def test_a_start_takes_no_seq_for_a_message_it_does_not_send_so_the_manager_misses_none(mq, manager, tmp_path):
    """The routine health due before the connection is not sent (QoS 0, not buffered): it must not take
    a seq, or the manager counts a message missed after every start."""
    (tmp_path / "manager").mkdir()
    with fleet_manager(mq, tmp_path / "manager") as fleet:
        agent = make_agent(mq, tmp_path, "kiosk-f")
        birth = start(agent, manager)
        try:
            health = p.Health.parse(manager.on(p.health_topic("kiosk-f")).payload)
            assert (birth.stamp.seq, health.stamp.seq) == (1, 2)  # 0 is the will's, taken before the birth
            online = fleet.query(lambda s: s.get(DeviceRow, "kiosk-f"),
                                 lambda d: d is not None and d.boot_id == agent.boot_id and d.seq_max == 2)
            assert (online.seq_received, online.missing) == (2, 0)
        finally:
            agent.stop()
        offline = fleet.query(lambda s: s.get(DeviceRow, "kiosk-f"), lambda d: d.state == "offline")
        assert (offline.seq_max, offline.missing) == (3, 0)  # the clean end; its will never sent


class _DeviceList(list):
    """The two things the agent uses of ``kiosk.devices.Devices``: iteration and subscribe."""

    def subscribe(self, callback):
        for device in self:
            device.subscribe(callback)


def test_a_maintenance_job_from_issue_to_success(mq, manager, tmp_path):
    recorder = Recorder()

    def maintenance(on):  # the kiosk's hook shows the page and sets the state it leads to
        recorder.hook("maintenance")(on)
        agent.set_state("maintenance" if on else "online")

    agent = make_agent(mq, tmp_path, hooks=JobHooks(maintenance=maintenance))
    start(agent, manager)
    try:
        assert manager.publish(p.job_topic("kiosk-a", "job-m1"), job("job-m1", "maintenance", {"on": True})) == 0
        seen = statuses(manager, "kiosk-a", "job-m1")
        assert [s.status for s in seen] == [p.IN_PROGRESS, p.SUCCEEDED] and seen[-1].progress == 100
        assert state_of(manager.on(p.state_topic("kiosk-a"), lambda b: b"maintenance" in b)).state == "maintenance"
        assert recorder.calls == [("maintenance", True)]
        assert manager.publish(p.group_job_topic("county-x", "job-m2"), job("job-m2", "maintenance", {"on": "yes"})) == 0
        rejected = statuses(manager, "kiosk-a", "job-m2")[-1]
        assert rejected.status == p.REJECTED and rejected.detail["code"] == "job.bad_args"
    finally:
        agent.stop()


@pytest.mark.parametrize("version", ["5", "3.1.1"])
def test_a_job_queued_while_offline_runs_on_return_and_an_expired_one_times_out(mq, manager, tmp_path, version):
    recorder = Recorder()
    hooks = JobHooks(restart_app=recorder.hook("restart"))
    first = make_agent(mq, tmp_path, "kiosk-d", mqtt_version=version, hooks=hooks)
    start(first, manager)
    first.stop()
    manager.on(p.state_topic("kiosk-d"), lambda b: b'"offline"' in b and first.boot_id.encode() in b)
    n = version.replace(".", "")
    assert manager.publish(p.job_topic("kiosk-d", f"late-{n}"), job(f"late-{n}", "restart_app", expires_in=timedelta(0))) == 0
    assert manager.publish(p.job_topic("kiosk-d", f"wait-{n}"), job(f"wait-{n}", "restart_app")) == 0
    again = make_agent(mq, tmp_path, "kiosk-d", mqtt_version=version, hooks=hooks)
    start(again, manager)
    try:
        assert [s.status for s in statuses(manager, "kiosk-d", f"late-{n}")] == [p.TIMED_OUT]
        assert statuses(manager, "kiosk-d", f"wait-{n}")[-1].status == p.SUCCEEDED
        assert recorder.calls == [("restart",)]
    finally:
        again.stop()


def test_a_job_id_seen_before_is_answered_not_run_again_even_after_a_restart(mq, manager, tmp_path):
    recorder = Recorder()
    hooks = JobHooks(reboot=recorder.hook("reboot"))
    agent = make_agent(mq, tmp_path, "kiosk-e", hooks=hooks)
    start(agent, manager)
    try:
        manager.publish(p.job_topic("kiosk-e", "job-r1"), job("job-r1", "reboot"))
        assert statuses(manager, "kiosk-e", "job-r1")[-1].status == p.SUCCEEDED
        manager.publish(p.job_topic("kiosk-e", "job-r1"), job("job-r1", "reboot"))
        assert [s.status for s in statuses(manager, "kiosk-e", "job-r1")] == [p.SUCCEEDED]
    finally:
        agent.stop()
    again = make_agent(mq, tmp_path, "kiosk-e", hooks=hooks)
    start(again, manager)
    try:
        manager.publish(p.job_topic("kiosk-e", "job-r1"), job("job-r1", "reboot"))
        assert [s.status for s in statuses(manager, "kiosk-e", "job-r1")] == [p.SUCCEEDED]
        assert recorder.calls == [("reboot",)]
    finally:
        again.stop()


def test_unknown_and_not_yet_supported_ops_are_rejected_with_a_reason(mq, manager, tmp_path):
    agent = make_agent(mq, tmp_path)
    start(agent, manager)
    try:
        for job_id, op in (("job-u1", "dance"), ("job-u2", "push_content"), ("job-u3", "update")):
            manager.publish(p.job_topic("kiosk-a", job_id), job(job_id, op))
            answer = statuses(manager, "kiosk-a", job_id)[-1]
            assert answer.status == p.REJECTED and op in answer.detail["reason"]
        manager.publish(p.job_topic("kiosk-a", "job-u4"), b'{"v":1,"job":"job-u4","op":7}')
        answer = statuses(manager, "kiosk-a", "job-u4")[-1]
        assert answer.status == p.REJECTED and "job.op" in answer.detail["reason"]
    finally:
        agent.stop()


def test_events_and_metrics_made_offline_are_buffered_on_disk_and_sent_later(mq, manager, tmp_path):
    offline = make_agent(mq, tmp_path, "kiosk-c", broker=f"mqtt://127.0.0.1:{free_port()}")
    offline.start()
    offline.emit("printer.paper_out", "warning", "receipt", "paper out")
    offline.counters.count("sessions", 3)
    offline.counters.count("cases_by_item", key="11440800MB")
    offline._tasks.put(offline._metrics)
    offline.emit("outbox.stuck", "critical", "", "outbox not draining")
    offline.stop()
    assert len(offline.buffer) == 3
    agent = make_agent(mq, tmp_path, "kiosk-c")
    start(agent, manager)
    try:
        first = p.Event.parse(manager.on(p.events_topic("kiosk-c")).payload)
        metrics = p.Metrics.parse(manager.on(p.metrics_topic("kiosk-c")).payload)
        second = p.Event.parse(manager.on(p.events_topic("kiosk-c")).payload)
        assert (first.type, second.type) == ("printer.paper_out", "outbox.stuck")
        assert metrics.sessions == 3 and dict(metrics.cases_by_item) == {"11440800MB": 1}
        assert first.stamp.boot_id == offline.boot_id != agent.boot_id
    finally:
        agent.stop()
    assert len(agent.buffer) == 0


@pytest.fixture
def https(mq, tmp_path):
    with upload_server(mq.dir / "ca", tmp_path) as server:
        yield server


def test_screenshot_and_logs_are_uploaded_over_https(mq, manager, tmp_path, https):
    url, received = https
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    hooks = JobHooks(capture_screen=lambda: png, log_lines=lambda n: [f"line {i}" for i in range(n)])
    agent = make_agent(mq, tmp_path, "kiosk-a", tls=True, hooks=hooks)
    start(agent, manager)
    try:
        manager.publish(p.job_topic("kiosk-a", "shot-1"), job("shot-1", "screenshot", {"upload_url": f"{url}/up"}))
        done = statuses(manager, "kiosk-a", "shot-1")[-1]
        assert done.status == p.SUCCEEDED and done.detail["url"] == f"{url}/files/1"
        manager.publish(p.job_topic("kiosk-a", "logs-1"), job("logs-1", "collect_logs",
                                                               {"upload_url": f"{url}/logs", "lines": 3}))
        assert statuses(manager, "kiosk-a", "logs-1")[-1].detail["url"] == f"{url}/files/2"
        assert received == [("/up", "image/png", png), ("/logs", "text/plain; charset=utf-8", b"line 0\nline 1\nline 2\n")]
        manager.publish(p.job_topic("kiosk-a", "logs-2"), job("logs-2", "collect_logs", {"upload_url": "http://x.org/"}))
        assert statuses(manager, "kiosk-a", "logs-2")[-1].status == p.REJECTED
    finally:
        agent.stop()


def test_set_config_is_validated_applied_and_rolled_back(mq, manager, tmp_path):
    current = {"terminal": {"id": "kiosk-a"}, "session": {"idle_timeout_s": 60.0}}
    applied = []

    def apply(raw, config):
        applied.append(raw)
        if raw.get("session", {}).get("idle_timeout_s") == 99.0:
            raise OSError("disk full")

    agent = make_agent(mq, tmp_path, hooks=JobHooks(current_config=lambda: current, apply_config=apply))
    start(agent, manager)
    try:
        manager.publish(p.job_topic("kiosk-a", "cfg-1"), job("cfg-1", "set_config", {"session": {"idle_timeout_s": 90}}))
        assert statuses(manager, "kiosk-a", "cfg-1")[-1].status == p.SUCCEEDED
        assert applied[-1] == {"terminal": {"id": "kiosk-a"}, "session": {"idle_timeout_s": 90}}
        manager.publish(p.job_topic("kiosk-a", "cfg-2"), job("cfg-2", "set_config", {"session": {"idle_timeout_s": 1}}))
        bad = statuses(manager, "kiosk-a", "cfg-2")[-1]
        assert bad.status == p.REJECTED and "idle_timeout_s" in bad.detail["reason"] and len(applied) == 1
        manager.publish(p.job_topic("kiosk-a", "cfg-3"), job("cfg-3", "set_config", {"session": {"idle_timeout_s": 99.0}}))
        failed = statuses(manager, "kiosk-a", "cfg-3")[-1]
        assert failed.status == p.FAILED and failed.detail["code"] == "job.config_rolled_back"
        assert applied[-1] == current
    finally:
        agent.stop()


def test_options_are_checked_like_other_config_sections():
    with pytest.raises(ValueError, match="broker"):
        FleetOptions(broker="http://x")
    with pytest.raises(ValueError, match="groups"):
        FleetOptions(groups=("Bad Group",))
    with pytest.raises(ValueError, match="mqtt_version"):
        FleetOptions(mqtt_version="4")


def _until(condition) -> None:
    """Wait for the agent to notice something (its network thread works on its own)."""
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, "the agent did not get there"
        time.sleep(0.02)


def test_a_lost_connection_buffers_and_drains_on_reconnect(mq, manager, tmp_path):
    proxy = Proxy(mq.port)
    agent = make_agent(mq, tmp_path, "kiosk-b", broker=proxy.url)
    online = start(agent, manager)
    try:
        proxy.cut()
        will = state_of(manager.on(p.state_topic("kiosk-b"),
                                   lambda b: b'"offline"' in b and agent.boot_id.encode() in b))
        assert will.conn == online.conn
        _until(lambda: not agent.connected)
        agent.emit("scanner.jammed", "warning", "scanner", "jam")
        _until(lambda: len(agent.buffer) == 1)
        proxy.resume()
        back = state_of(manager.on(p.state_topic("kiosk-b"),  # not a resent copy of the first birth
                                   lambda b: b'"online"' in b and p.State.parse(b).conn > online.conn))
        assert back.conn == online.conn + 1 and back.stamp.boot_id == online.stamp.boot_id
        assert p.Event.parse(manager.on(p.events_topic("kiosk-b")).payload).type == "scanner.jammed"
        _until(lambda: len(agent.buffer) == 0)
    finally:
        agent.stop()
        proxy.close()


def test_falls_back_to_mqtt_311_when_the_broker_refuses_5(mq, manager, tmp_path):
    proxy = Proxy(mq.port, mqtt311_only=True)
    agent = make_agent(mq, tmp_path, "kiosk-b", broker=proxy.url)
    try:
        assert start(agent, manager).stamp.boot_id == agent.boot_id
        assert proxy.refused_v5 >= 1
    finally:
        agent.stop()
        proxy.close()


def test_the_fleet_section_fits_the_config_loader():
    """Once ``"fleet": FleetOptions`` is in kiosk.config's sections, keys are typed and checked."""
    from kiosk import config

    section = {"broker": "mqtts://fleet.example:8883", "groups": ["county-x"], "health_interval_s": 15}
    options = config._build(FleetOptions, section, "fleet", "kiosk.toml")
    assert options.groups == ("county-x",) and options.health_interval_s == 15.0
    with pytest.raises(config.ConfigError, match="fleet.*broker"):
        config._build(FleetOptions, {"broker": "ftp://x"}, "fleet", "kiosk.toml")
