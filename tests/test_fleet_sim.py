"""fleet-sim: its layout, its terminals' behaviour, and the real thing against a real mosquitto.

The broker is the project's test mosquitto with the deploy ACL, and every simulated
terminal has its own issued account, so the sim is held to what a real kiosk may do.
The manager's side is a paho client with the manager's account (``Watcher``).
"""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet import protocol as p
from fleet import sim_layout
from fleet.sim import catalog_items
from fleet.sim_jobs import plan
from fleet.sim_kiosk import SimClock, SimKiosk
from tests._mosquitto import ROOT, Watcher, broker_fixtures
from tests._upload_server import upload_server

pytestmark = pytest.mark.timeout(180)
COUNT, SEED = 6, 7
FLEET = sim_layout.layout(COUNT, "simt", SEED, 2)
MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)  # 08:00 in China


# -- the layout ---------------------------------------------------------------------------------
def test_the_layout_is_deterministic_with_tiers_20_50_30_and_valid_groups():
    first, again = sim_layout.layout(200, "sim", 3), sim_layout.layout(200, "sim", 3)
    assert first == again and first != sim_layout.layout(200, "sim", 4)
    assert Counter(t.tier for t in first) == {"demonstration": 40, "standard": 100, "simple": 60}
    assert len({t.station for t in first}) == 200 and len({t.group for t in first}) == 7
    assert all(p.valid_id(t.id) and all(p.valid_id(g) for g in t.groups) for t in first)
    assert [t.id for t in first[:2]] == ["sim-00000", "sim-00001"]


def test_the_registry_csv_has_the_managers_columns(tmp_path):
    path = tmp_path / "registry.csv"
    sim_layout.write_csv(FLEET, path)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == ("id", "station", "township", "group", "tier", "groups", "residents", "staff")
    assert [r["id"] for r in rows] == [t.id for t in FLEET]
    assert rows[0]["groups"].split() == list(FLEET[0].groups)


@pytest.mark.parametrize("count, prefix, towns", [(0, "sim", None), (5, "-bad", None), (5, "Sim", None),
                                                  (5, "sim", 6)])
def test_a_bad_layout_is_refused(count, prefix, towns):
    with pytest.raises(ValueError):
        sim_layout.layout(count, prefix, 0, towns)


def test_the_command_refuses_bad_arguments_with_exit_2():
    for args in (["--count", "5"], ["--count", "5", "--broker", "http://x"],
                 ["--count", "5", "--broker", "mqtt://h", "--processes", "9"]):
        done = subprocess.run([sys.executable, "-m", "fleet.sim", *args], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 2 and "fleet-sim: error" in done.stderr
    done = subprocess.run([sys.executable, "-m", "fleet.sim", "--count", "2", "--broker", "mqtt://127.0.0.1:1",
                           "--password-file", "/nonexistent/{id}.password"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "/nonexistent/sim-00000.password" in done.stderr


# -- one terminal's behaviour, without a network -------------------------------------------------
def days_of(days: int, fault_rate: float) -> tuple[SimKiosk, list[tuple[p.Topic, p.Payload]]]:
    kiosk = SimKiosk(FLEET[0], SimClock(MONDAY), catalog_items(), seed=SEED, fault_rate=fault_rate)
    outs = [kiosk.state_message(), kiosk.health(0.0, 1)]
    for minute in range(1, days * 24 * 60):
        outs += kiosk.metrics(minute * 60.0, 60.0)
        outs += kiosk.faults(minute * 60.0, 60.0)[0]
    return kiosk, [p.parse_message(o.topic, o.payload) for o in outs]


def test_a_week_of_messages_is_valid_protocol_with_daily_patterns():
    kiosk, messages = days_of(7, fault_rate=1.0)
    assert {topic.kiosk for topic, _ in messages} == {kiosk.id}
    assert [m.stamp.seq for _, m in messages] == list(range(len(messages)))  # one boot: no gaps
    metrics = [m for t, m in messages if t.kind == "metrics"]
    items = set(catalog_items())
    by_hour: Counter[int] = Counter()
    for minute, m in enumerate(metrics, 1):
        assert sum(m.cases_by_item.values()) == m.cases_submitted <= m.sessions
        assert set(m.cases_by_item) <= items
        assert sum(m.evaluations.values()) <= m.cases_submitted
        by_hour[(minute // 60 + 8) % 24] += m.sessions  # MONDAY starts at 08:00 in China
    assert by_hour[10] > 5 * by_hour[3]  # mornings are busy, nights quiet
    evaluations = Counter()
    for m in metrics:
        evaluations.update(m.evaluations)
    assert (evaluations["very_satisfied"] + evaluations["satisfied"]) / sum(evaluations.values()) > 0.85


def test_faults_are_announced_and_recover():
    _, messages = days_of(30, fault_rate=10.0)  # a month: the receipt roll runs low too
    events = Counter(m.type for t, m in messages if t.kind == "events")
    for begins, ends in (("idcard.error", "idcard.recovered"), ("outbox.stuck", "outbox.drained"),
                         ("system.disk_low", "system.disk_ok")):
        assert events[begins] >= 1 and events[begins] - events[ends] in (0, 1)
    health = [m for t, m in messages if t.kind == "health"]
    assert any(h.devices["idcard"].status == "hardware_error" for h in health)
    assert any(h.devices["receipt"].detail["paper"] != "ok" for h in health)


def make_job(op: str, args: dict | None = None, expires_s: float = 600, job: str = "job-1") -> bytes:
    return p.Job(job, op, args or {}, expires_at=p.now() + timedelta(seconds=expires_s), issuer="test").to_json()


@pytest.mark.parametrize("op, args, final", [
    ("reboot", {}, p.SUCCEEDED), ("restart_app", {}, p.SUCCEEDED), ("maintenance", {"on": True}, p.SUCCEEDED),
    ("maintenance", {"on": "yes"}, p.REJECTED), ("set_config", {"fleet": {"health_interval_s": 60}}, p.SUCCEEDED),
    ("set_config", {}, p.REJECTED), ("push_content", {"sha256": "a" * 64}, p.SUCCEEDED),
    ("push_content", {"sha256": "xyz"}, p.REJECTED), ("update", {"version": "2.0.1"}, p.SUCCEEDED),
    ("update", {}, p.REJECTED), ("screenshot", {"upload_url": "http://plain"}, p.REJECTED),
    ("collect_logs", {"upload_url": "https://m/u", "lines": 0}, p.REJECTED), ("fly", {}, p.REJECTED)])
def test_every_op_has_the_specs_life_cycle(op, args, final):
    steps = plan(p.Job.parse(make_job(op, args)))
    assert steps[-1].status == final and [s.after_s for s in steps] == sorted(s.after_s for s in steps)
    if final == p.SUCCEEDED:
        assert steps[0].status == p.IN_PROGRESS and steps[-1].progress == 100
    else:
        assert len(steps) == 1 and steps[0].detail["reason"]


def test_expired_duplicate_and_malformed_jobs():
    kiosk = SimKiosk(FLEET[1], SimClock(MONDAY), ())
    assert [s.status for s in kiosk.job("old-1", make_job("reboot", expires_s=-1, job="old-1"))] == [p.TIMED_OUT]
    steps = kiosk.job("job-1", make_job("maintenance", {"on": True}))
    kiosk.job_status("job-1", steps[0])
    assert [s.status for s in kiosk.job("job-1", make_job("maintenance", {"on": True}))] == [p.IN_PROGRESS]
    kiosk.job_status("job-1", steps[-1])
    assert [s.status for s in kiosk.job("job-1", make_job("maintenance", {"on": True}))] == [p.SUCCEEDED]
    assert kiosk.job("job-2", make_job("reboot"))[0].detail["code"] == "job.malformed"  # id differs from the topic's


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                 st.dictionaries(st.sampled_from(["v", "job", "op", "args", "issued_at", "expires_at"]),
                                 st.one_of(st.none(), st.integers(), st.text(max_size=20), st.booleans(),
                                           st.just({}), st.just("2030-01-01T00:00:00Z")))
                 .map(lambda d: __import__("json").dumps(d).encode())))
def test_any_job_payload_is_answered_with_a_valid_status(payload):
    kiosk = SimKiosk(FLEET[2], SimClock(MONDAY), ())
    for step in kiosk.job("job-x", payload):
        out = kiosk.job_status("job-x", step)
        topic, status = p.parse_message(out.topic, out.payload)
        assert topic.job == "job-x" and status.status in p.JOB_STATUSES


# -- the running sim against a real broker ----------------------------------------------------------
mq, manager = broker_fixtures("sim", {t.id: t.groups for t in FLEET})


def start_sim(mq, processes: int = 2, speed: float = 30.0) -> subprocess.Popen:
    certs = mq.accounts[FLEET[0].id].password_file.parent
    return subprocess.Popen(
        [sys.executable, "-m", "fleet.sim", "--broker", mq.url, "--count", str(COUNT), "--prefix", "simt",
         "--seed", str(SEED), "--township-count", "2", "--processes", str(processes), "--speed", str(speed),
         "--password-file", str(certs / "{id}.password")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def states(manager: Watcher, want: str, ids=tuple(t.id for t in FLEET),
           boots: dict[str, p.State] | None = None) -> dict[str, p.State]:
    """The next ``want`` state of each of ``ids`` (of the boot of its state in ``boots``, if given)."""
    found = {}
    for kiosk in ids:
        def match(payload: bytes) -> bool:
            state = p.State.parse(payload)
            return state.state == want and (boots is None or state.stamp.boot_id == boots[kiosk].stamp.boot_id)
        found[kiosk] = p.State.parse(manager.on(p.state_topic(kiosk), match).payload)
    return found


def stop(sim: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    sim.send_signal(sig)
    try:
        return sim.wait(30)
    finally:
        sim.stderr.close()


def test_retained_states_valid_payloads_and_wills_when_the_sim_is_killed(mq, manager):
    sim = start_sim(mq)
    try:
        online = states(manager, "online")
        for terminal in FLEET:
            assert online[terminal.id].station == terminal.station
            assert online[terminal.id].groups == terminal.groups
        late = Watcher(mq)  # a subscriber that comes later gets every state from the broker
        try:
            for terminal in FLEET:
                message = late.on(p.state_topic(terminal.id))
                assert message.retain and p.State.parse(message.payload).state == "online"
        finally:
            late.close()
        kinds = Counter()
        while kinds["metrics"] < COUNT or kinds["health"] < 2 * COUNT:
            message = manager.next()
            topic, _ = p.parse_message(message.topic, message.payload)  # raises on anything invalid
            kinds[topic.kind] += 1
    finally:
        os.kill(sim.pid, signal.SIGKILL)  # the workers notice their parent is gone and die as abruptly
        sim.wait()
        sim.stderr.close()
    for kiosk, will in states(manager, "offline", boots=online).items():
        assert will.conn == online[kiosk].conn
    assert "Denied PUBLISH" not in mq.log()  # the ACL let each terminal say what it said


def test_jobs_from_the_manager_get_the_specs_answers(mq, manager):
    sim = start_sim(mq, processes=1)
    first, township = FLEET[0].id, FLEET[0].group
    members = [t.id for t in FLEET if t.group == township]
    try:
        online = states(manager, "online")

        def answers(kiosk: str, job: str, final: str) -> list[str]:
            seen = []
            while not seen or seen[-1] != final:
                message = manager.on(p.job_status_topic(kiosk, job))
                seen.append(p.JobStatus.parse(message.payload).status)
            return seen

        assert manager.publish(p.job_topic(first, "j-fly"), make_job("fly", job="j-fly")) == 0
        assert answers(first, "j-fly", p.REJECTED) == [p.REJECTED]
        manager.publish(p.job_topic(first, "j-old"), make_job("reboot", expires_s=-5, job="j-old"))
        assert answers(first, "j-old", p.TIMED_OUT) == [p.TIMED_OUT]
        manager.publish(p.group_job_topic(township, "j-maint"), make_job("maintenance", {"on": True}, job="j-maint"))
        for kiosk in members:
            assert answers(kiosk, "j-maint", p.SUCCEEDED) == [p.IN_PROGRESS, p.SUCCEEDED]
        states(manager, "maintenance", members)
        manager.publish(p.job_topic(first, "j-maint"), make_job("maintenance", {"on": True}, job="j-maint"))
        assert answers(first, "j-maint", p.SUCCEEDED) == [p.SUCCEEDED]  # a duplicate: not run again
        manager.publish(p.job_topic(first, "j-boot"), make_job("reboot", job="j-boot"))
        assert answers(first, "j-boot", p.SUCCEEDED) == [p.IN_PROGRESS, p.IN_PROGRESS, p.SUCCEEDED]
        states(manager, "offline", [first], online)  # the terminal says so itself before it restarts
        after = states(manager, "maintenance", [first])[first]
        assert after.stamp.boot_id != online[first].stamp.boot_id and after.stamp.seq <= 2
        online[first] = after
    finally:
        assert stop(sim) == 0
    assert len(states(manager, "offline", boots=online)) == COUNT  # a clean stop says offline


def test_over_tls_with_client_certificates_screenshots_and_logs_are_uploaded_over_https(mq, manager, tmp_path):
    kiosk = FLEET[3].id
    with upload_server(mq.dir / "ca", tmp_path) as (base, received):
        certs = mq.accounts[kiosk].password_file.parent
        sim = subprocess.Popen(
            [sys.executable, "-m", "fleet.sim", "--broker", mq.tls_url, "--count", str(COUNT), "--prefix", "simt",
             "--seed", str(SEED), "--township-count", "2", "--speed", "30", "--ca-file", str(mq.ca_file),
             "--password-file", str(certs / "{id}.password"), "--cert-file", str(certs / "{id}.crt"),
             "--key-file", str(certs / "{id}.key")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            states(manager, "online", [kiosk])
            manager.publish(p.job_topic(kiosk, "j-shot"),
                            make_job("screenshot", {"upload_url": f"{base}/up/shot"}, job="j-shot"))
            manager.publish(p.job_topic(kiosk, "j-logs"),
                            make_job("collect_logs", {"upload_url": f"{base}/up/logs", "lines": 7}, job="j-logs"))
            done = {}
            for job in ("j-shot", "j-logs"):
                message = manager.on(p.job_status_topic(kiosk, job), lambda b: p.JobStatus.parse(b).final)
                done[job] = p.JobStatus.parse(message.payload)
        finally:
            assert stop(sim) == 0
    assert done["j-shot"].status == p.SUCCEEDED and done["j-shot"].detail["url"].startswith(f"{base}/files/")
    assert done["j-logs"].detail["lines"] == 7
    bodies = {path: (kind, body) for path, kind, body in received}
    assert bodies["/up/shot"][0] == "image/png" and bodies["/up/shot"][1].startswith(b"\x89PNG\r\n\x1a\n")
    assert bodies["/up/logs"][1].decode().count("\n") == 7
