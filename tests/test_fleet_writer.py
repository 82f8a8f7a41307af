"""The manager's database side, on a real SQLite file and a private PostgreSQL server: what
ingest writes (also two writers at once), the alert rules and their life cycle, retention, the
registry CSV and the read queries."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fleet import alerts, queries, registry
from fleet import protocol as p
from fleet.db import Database
from fleet.jobs import Jobs
from fleet.models import Alert, Device, Event, HealthChange, ItemHour, Job, JobTarget, Metric, MetricHour
from fleet.retention import Retention, purge
from fleet.writer import Incoming, Writer
from tests._postgres import db_url  # noqa: F401  (a fixture: each test on SQLite and on PostgreSQL)

NOW = p.now()
STATION = "石桥村便民服务站"


@pytest.fixture
def db(db_url):  # noqa: F811
    database = Database(db_url).create()
    yield database
    database.close()


def stamp(seq: int, boot: str = "boot-1", at=None) -> p.Stamp:
    return p.Stamp(at or NOW, seq, boot)


def msg(kind: str, payload: p.Payload, kiosk: str = "kiosk-a", job: str | None = None, received=None) -> Incoming:
    return Incoming(p.Topic(kind, kiosk=kiosk, job=job), payload, received or NOW)


def state(seq: int, value: str = "online", conn: int = 0, boot: str = "boot-1", at=None, groups=("mazhang",)):
    return msg("state", p.State(stamp(seq, boot, at), value, conn, "1.0", STATION, groups))


def health(seq: int, paper: str = "ok", status: str = "online", disk: float = 20000.0, boot: str = "boot-1"):
    parts = {"receipt": p.DeviceHealth("receipt_printer", "online", {"paper": paper}),
             "idcard": p.DeviceHealth("idcard", status, {})}
    return msg("health", p.Health(stamp(seq, boot), parts, p.SystemHealth(disk_free_mb=disk, cpu_pct=5.0)))


def metrics(seq: int, pending: int = 0, received=None, cases=2):
    figures = p.Metrics(stamp(seq), 60.0, sessions=3, cases_submitted=cases, cases_by_item={"dibao": cases},
                        queue=p.QueueFigures(4, 1, 2, 30.0),
                        evaluations={**dict.fromkeys(p.EVALUATION_LEVELS, 0), "very_satisfied": 3, "dissatisfied": 1},
                        outbox_pending=pending)
    return msg("metrics", figures, received=received)


def device(db, kiosk="kiosk-a") -> Device:
    with db.session() as s:
        return s.get(Device, kiosk)


def active_alerts(db) -> set[tuple[str, str, str]]:
    with db.session() as s:
        return {(a.rule, a.part, a.state) for a in s.scalars(select(Alert).where(Alert.state != "resolved"))}


def test_a_will_landing_after_a_newer_birth_is_ignored_and_one_of_the_same_connection_is_not(db):
    w = Writer(db)
    w.write([state(1, conn=0), state(0, "offline", conn=0)])  # birth, then its own will
    assert device(db).state == "offline"
    done = w.write([state(5, conn=1), state(0, "offline", conn=0)])  # the next birth, then the old will, late
    assert (device(db).state, device(db).conn, done.stale) == ("online", 1, 1)
    assert w.write([state(1, conn=0)]).stale == 1  # a redelivered old birth changes nothing
    rebooted = w.write([state(0, boot="boot-2", at=NOW + timedelta(seconds=1)),
                        state(9, "offline", conn=3, at=NOW - timedelta(hours=1))])  # the old boot's will, late
    assert (rebooted.stale, device(db).state, device(db).boot_id) == (1, "online", "boot-2")
    with db.session() as s:
        found = s.get(Device, "kiosk-a")
        assert found.station.name == STATION and [g.group for g in found.groups] == ["mazhang"]


def test_sequence_gaps_and_duplicates_are_counted_per_boot_and_a_will_never_sent_is_not_missed(db):
    w = Writer(db)
    w.write([state(1), health(2), metrics(3), metrics(6)])  # seq 0: the will, set before the birth
    w.write([metrics(6)])  # delivered twice
    d = device(db)
    assert (d.seq_max, d.seq_received, d.missing, d.duplicates) == (6, 4, 2, 1)  # 4 and 5 missed
    w.write([metrics(4), metrics(5), state(7, "offline")])  # the rest, then a clean stop: its will is never sent
    assert device(db).missing == 0
    w.write([state(9, conn=1), state(8, "offline", conn=1)])  # the next connection (will: 8) ends by its will
    assert (device(db).seq_max, device(db).missing) == (9, 0)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Metric)) == 4  # each once


def test_health_updates_parts_and_logs_only_changes(db):
    w = Writer(db)
    w.write([state(0), health(1)])
    w.write([health(2)])  # nothing changed
    w.write([health(3, paper="out")])
    w.write([health(2, paper="near_end")])  # older than what is stored: ignored
    with db.session() as s:
        changes = [(h.part, h.status, h.detail) for h in s.scalars(select(HealthChange).order_by(HealthChange.id))]
    assert changes == [("receipt", "online", {"paper": "ok"}), ("idcard", "online", {}),
                       ("receipt", "online", {"paper": "out"})]
    assert {part.name: part.detail for part in device(db).parts}["receipt"] == {"paper": "out"}


def test_metrics_are_summed_per_hour_and_by_item(db):
    w = Writer(db)
    w.write([state(0), metrics(1), metrics(2, cases=5)])
    with db.session() as s:
        hour = s.scalars(select(MetricHour)).one()
        assert (hour.sessions, hour.cases_submitted, hour.queue_called, hour.wait_s_total) == (6, 7, 4, 120.0)
        assert s.execute(select(ItemHour.item, ItemHour.cases)).all() == [("dibao", 7)]
        figures = queries.stations(s, days=1)["stations"][0]
    assert (figures["cases"], figures["avg_wait_s"], figures["satisfaction"]) == (7, 30.0, 0.75)


def test_alerts_open_update_and_resolve_with_the_condition(db):
    w = Writer(db)
    w.write([state(0), health(1, paper="near_end", status="hardware_error", disk=500)])
    assert active_alerts(db) == {("paper", "receipt", "open"), ("card_reader", "idcard", "open"),
                                 ("disk_low", "", "open")}
    w.write([health(2, paper="out", status="hardware_error", disk=500)])
    with db.session() as s:
        paper = s.scalars(select(Alert).where(Alert.rule == "paper")).one()
        assert (paper.severity, paper.detail["paper"]) == ("critical", "out")
        alerts.acknowledge(paper, "zhang")
    w.write([health(3)])  # all clear
    assert active_alerts(db) == set()
    with db.session() as s:
        done = s.scalars(select(Alert).where(Alert.rule == "paper")).one()
        assert (done.state, done.acknowledged_by, done.resolved_by) == ("resolved", "zhang", None)
        with pytest.raises(alerts.AlertStateError):
            alerts.acknowledge(done, "zhang")


def test_offline_over_five_minutes_and_an_outbox_that_does_not_drain(db):
    w = Writer(db)
    w.write([state(0), metrics(1, pending=3, received=NOW)])
    w.write([state(0, "offline")])
    assert alerts.sweep(db, NOW + timedelta(minutes=4)) == (0, 0)
    assert alerts.sweep(db, NOW + timedelta(minutes=31)) == (2, 0)
    assert active_alerts(db) == {("offline", "", "open"), ("outbox", "", "open")}
    w.write([state(0, boot="boot-2", at=NOW + timedelta(minutes=32)),
             msg("metrics", p.Metrics(stamp(1, "boot-2"), 60.0, outbox_pending=0), received=NOW + timedelta(minutes=32))])
    assert alerts.sweep(db, NOW + timedelta(minutes=33)) == (0, 0)  # ingest resolved both already
    assert active_alerts(db) == set()


def test_a_terminal_that_falls_silent_while_online_is_offline_after_five_minutes(db):
    Writer(db).write([state(0), health(1)])
    assert alerts.sweep(db, NOW + timedelta(minutes=5)) == (0, 0)
    assert alerts.sweep(db, NOW + timedelta(minutes=6)) == (1, 0)
    with db.session() as s:
        silent = s.scalars(select(Alert)).one()
        assert (silent.rule, silent.detail["state"]) == ("offline", "online")
    Writer(db).write([msg("health", p.Health(stamp(2), {}), received=NOW + timedelta(minutes=7))])
    assert active_alerts(db) == set()  # heard again: resolved on ingest


def test_job_status_never_goes_back_from_a_final_one(db):
    with db.session(write=True) as s:
        s.add(Job(id="job-1", op="reboot", target_kind="device", target="kiosk-a", issuer="li",
                  targets=[JobTarget(device_id="kiosk-a")]))
    w = Writer(db)

    def status(seq, value, progress):
        return msg("job_status", p.JobStatus(stamp(seq), "job-1", value, progress), job="job-1")
    w.write([state(0), status(1, p.IN_PROGRESS, 10), status(2, p.SUCCEEDED, 100)])
    done = w.write([status(1, p.IN_PROGRESS, 10),
                    msg("job_status", p.JobStatus(stamp(3), "job-9", p.SUCCEEDED), job="job-9")])
    assert done.unknown_jobs == 1
    with db.session() as s:
        assert queries.job(s, "job-1")["targets"][0]["status"] == p.SUCCEEDED


def test_a_job_that_expired_unanswered_times_out_and_a_late_answer_still_counts(db):
    with db.session(write=True) as s:
        s.add(Job(id="job-x", op="reboot", target_kind="group", target="g", issuer="li", expires_at=NOW,
                  targets=[JobTarget(device_id="kiosk-a"), JobTarget(device_id="kiosk-b", status=p.IN_PROGRESS)]))
    jobs = Jobs(db, publisher=None)
    assert jobs.expire_unanswered(NOW - timedelta(seconds=1)) == 0
    assert jobs.expire_unanswered(NOW + timedelta(seconds=1)) == 1  # the one running is left to finish
    Writer(db).write([state(0), msg("job_status", p.JobStatus(stamp(1), "job-x", p.TIMED_OUT), job="job-x")])
    with db.session() as s:
        targets = {t["device"]: (t["status"], t["detail"].get("code")) for t in queries.job(s, "job-x")["targets"]}
    assert targets == {"kiosk-a": (p.TIMED_OUT, None), "kiosk-b": (p.IN_PROGRESS, None)}


def test_retention_keeps_hourly_sums_longer_than_raw_metrics(db):
    old = NOW - timedelta(days=10)
    Writer(db).write([state(0), msg("metrics", p.Metrics(stamp(1, at=old), 60.0, sessions=1)),
                      msg("events", p.Event(stamp(2, at=old), "printer.paper_out", "warning")), metrics(3)])
    deleted = purge(db, Retention(raw_metrics_days=7, events_days=7))
    assert (deleted["metrics"], deleted["events"], deleted["metric_hours"]) == (1, 1, 0)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Metric)) == 1
        assert s.scalar(select(func.count()).select_from(MetricHour)) == 2
        assert s.scalar(select(func.count()).select_from(Event)) == 0


def test_registry_csv_and_the_problems_first_device_list(db):
    rows = registry.parse("\ufeffid,station,township,group,tier,groups,residents,staff\n"
                          f"kiosk-a,{STATION},青山镇,qingshan,demonstration,qingshan tier-demonstration,1200,2\n"
                          "kiosk-b,东河村便民服务站,青山镇,qingshan,simple,,800,1\n")
    with db.session(write=True) as s:
        assert registry.load(s, rows) == {"stations": 2, "devices": 2}
    Writer(db).write([state(0, groups=()), health(1, paper="out"),
                      msg("state", p.State(stamp(0), "online", 0, "1.0", "东河村便民服务站"), kiosk="kiosk-b")])
    with db.session() as s:
        listed = queries.devices(s)
        overview = queries.overview(s)
    assert [d["id"] for d in listed["devices"]] == ["kiosk-a", "kiosk-b"]
    assert listed["devices"][0]["parts_in_trouble"] == ["receipt"] and listed["devices"][0]["township"] == "青山镇"
    assert overview["townships"] == [{"township": "青山镇", "devices": 2, "online": 2, "offline": 0, "problems": 1}]
    for bad, error in (("id,station\n", "header lacks"),
                       ("id,station,township,tier\nKIOSK,x,y,simple\n", "line 2"),
                       ("id,station,township,tier\nkiosk-c,x,y,gold\n", "tier must be"),
                       ("id,station,township,tier,staff\nkiosk-c,x,y,simple,two\n", "staff must be")):
        with pytest.raises(registry.RegistryError, match=error):
            registry.parse(bad)


def test_two_writers_at_once_on_the_same_devices_lose_and_double_nothing(db):
    """As two ingest processes do: on PostgreSQL each batch locks the devices no other holds, then
    waits for the rest; on SQLite the writers take turns."""
    kiosks = [f"kiosk-{n:02d}" for n in range(30)]
    Writer(db).write([msg("state", p.State(stamp(0), "online", 0, "1.0", STATION), kiosk=k) for k in kiosks])

    def batches(first_seq: int) -> list[list[Incoming]]:  # each writer's own seqs, every device in every batch
        return [[msg("metrics", p.Metrics(stamp(first_seq + 2 * b), 60.0, sessions=1, outbox_pending=b), kiosk=k)
                 for k in kiosks] for b in range(15)]
    failures = []

    def run(first_seq: int) -> None:
        writer = Writer(db)
        try:
            for batch in batches(first_seq):
                writer.write(batch)
        except Exception as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)
    threads = [threading.Thread(target=run, args=(seq,)) for seq in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Metric)) == 30 * 30
        assert s.scalar(select(func.sum(MetricHour.sessions))) == 30 * 30
        counted = s.execute(select(Device.seq_received, Device.seq_max)).all()
    assert set(counted) == {(31, 30)}  # the birth and 30 metrics each, none lost to the other writer
