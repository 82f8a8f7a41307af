"""Malformed and hostile payloads on every topic never crash ingest (hypothesis).

``Ingest.handle`` is the path every message takes after paho hands it over: validation,
de-duplication, the database write (a real SQLite file). A message either is dropped with
one log line or is written; nothing raises and the write path never fails on it (an
exception there would be logged at ERROR, which the test refuses). One test sends hostile
payloads through a real mosquitto and checks ingest still takes a good message after them.
"""
from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fleet import protocol as p
from fleet.broker import BrokerOptions
from fleet.db import Database
from fleet.ingest import Ingest, Raw
from fleet.models import Event
from tests._fleet_manager import broker_options, eventually
from tests._mosquitto import Watcher, broker

pytestmark = pytest.mark.timeout(300)
KIOSK = "kiosk-h"
STAMP = {"ts": "2024-05-01T08:00:00.000Z", "seq": 1, "boot_id": "boot-1"}
VALID = {
    "state": {"v": 1, **STAMP, "state": "online", "conn": 0, "version": "1", "station": "s", "groups": ["g-1"]},
    "health": {"v": 1, **STAMP, "devices": {"receipt": {"kind": "receipt_printer", "status": "online",
                                                        "detail": {"paper": "ok"}}},
               "system": {"cpu_pct": 5, "disk_free_mb": 100}},
    "metrics": {"v": 1, **STAMP, "window_s": 60, "sessions": 1, "cases_submitted": 1, "cases_by_item": {"a": 1},
                "prints": 0, "scans": 0, "queue": {"issued": 1, "waiting": 0, "called": 1, "avg_wait_s": 3.5},
                "evaluations": dict.fromkeys(p.EVALUATION_LEVELS, 0), "outbox_pending": 0},
    "events": {"v": 1, **STAMP, "type": "printer.paper_out", "severity": "warning", "device": "receipt", "message": "x"},
    "jobs/job-1/status": {"v": 1, **STAMP, "job": "job-1", "status": "SUCCEEDED", "progress": 100, "detail": {}},
}
LEAVES = tuple(VALID)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)
hostile_strings = st.sampled_from(["", "x" * 5000, "../../etc", "\u0000", "'; DROP TABLE devices; --", "𠮷" * 100,
                                   "2024-13-45T99:99:99Z", "NaN", "-1"])


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    """A valid message of one kind with one field, at any depth, replaced or added."""
    leaf = draw(st.sampled_from(LEAVES))
    payload = json.loads(json.dumps(VALID[leaf]))
    target = payload
    for key in draw(st.lists(st.sampled_from(["devices", "receipt", "detail", "queue", "system", "evaluations"]),
                             max_size=3)):
        if isinstance(target.get(key), dict):
            target = target[key]
    key = draw(st.sampled_from(sorted(target)) | st.text(max_size=8) if target else st.text(max_size=8))
    target[key] = draw(json_values | hostile_strings)
    return f"kiosk/v1/{KIOSK}/{leaf}", json.dumps(payload, allow_nan=True).encode()


topics = st.sampled_from([f"kiosk/v1/{KIOSK}/{leaf}" for leaf in LEAVES]) | st.builds(
    lambda kiosk, leaf: f"kiosk/v1/{kiosk}/{leaf}", st.text(max_size=70) | hostile_strings,
    st.sampled_from([*LEAVES, "jobs/x", "jobs/job-1", "", "state/extra"]))
raw_payloads = st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()) | st.just(b"[" * 100000)


@pytest.fixture(scope="module")
def ingest(tmp_path_factory):
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('props') / 'fleet.db'}").create()
    # never started: handle() is what the worker calls with what paho received
    yield Ingest(db, BrokerOptions("mqtt://127.0.0.1:1"), "props")
    db.close()


def handle(ingest: Ingest, caplog, messages: list[tuple[str, bytes]]) -> None:
    before = ingest.stats.received
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        ingest.handle([Raw(t, d, p.now(), i, 1) for i, (t, d) in enumerate(messages)])
    assert ingest.stats.received == before + len(messages)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(mutated(), min_size=1, max_size=5))
def test_mutated_messages_are_written_or_dropped_never_raised(ingest, caplog, messages):
    handle(ingest, caplog, messages)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(topics, raw_payloads), min_size=1, max_size=5))
def test_any_topic_and_any_bytes_never_raise(ingest, caplog, messages):
    handle(ingest, caplog, messages)


def test_ingest_survives_hostile_messages_from_the_broker(tmp_path):
    with broker(tmp_path / "mq", {KIOSK: ()}) as b:
        db = Database(f"sqlite:///{tmp_path / 'fleet.db'}").create()
        live = Ingest(db, broker_options(b), "hostile")
        live.start()
        kiosk = Watcher(b, KIOSK, subscribe=())
        try:
            for leaf in LEAVES:
                for payload in (b"\xff\xfe", b"{}", b'{"v":1,"seq":-1}', b"[" * 100000, b'{"v":2}',
                                json.dumps({**VALID[leaf], "ts": "yesterday"}).encode()):
                    assert kiosk.publish(f"kiosk/v1/{KIOSK}/{leaf}", payload) == 0
            good = {**VALID["events"], "seq": 7}
            assert kiosk.publish(p.events_topic(KIOSK), json.dumps(good).encode()) == 0
            def stored() -> int:
                with db.session() as s:
                    return s.scalar(select(func.count()).select_from(Event).where(Event.device_id == KIOSK))
            assert eventually(stored) == 1 and live.stats.malformed == 6 * len(LEAVES)
        finally:
            kiosk.close()
            live.stop()
            db.close()
