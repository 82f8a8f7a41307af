"""fleet.protocol: topics, payload round trips, and hostile bytes on every topic."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet import protocol as p
from fleet._fields import MAX_PAYLOAD
from kiosk.fleet_jobs import JobHooks, JobRunner, JobStore

STAMP = p.Stamp(p.now(), 7, "boot-1")
SAMPLES = {
    "state": p.State(STAMP, "maintenance", 2, "1.2.0", "mazhang-1", ("county-x",)),
    "health": p.Health(STAMP, {"receipt": p.DeviceHealth("printer", "online", {"paper": "near_end"})},
                       p.SystemHealth(12.5, 800.0, 1024.0, None, 3600.0, "eth0")),
    "metrics": p.Metrics(STAMP, 60.0, 4, 2, {"11440800MB": 2}, 3, 1, p.QueueFigures(5, 2, 3, 41.5),
                         dict(zip(p.EVALUATION_LEVELS, (3, 1, 0, 0, 0))), 1),
    "events": p.Event(STAMP, "printer.paper_out", "warning", "receipt", "paper out"),
    "job": p.Job("job-1", "maintenance", {"on": True}, p.now(), p.now() + timedelta(hours=1), "alice"),
    "job_status": p.JobStatus(STAMP, "job-1", p.IN_PROGRESS, 40, {"step": "upload"}),
}
TOPICS = {
    "state": p.state_topic("mz-001"), "health": p.health_topic("mz-001"), "metrics": p.metrics_topic("mz-001"),
    "events": p.events_topic("mz-001"), "job": p.job_topic("mz-001", "job-1"),
    "job_status": p.job_status_topic("mz-001", "job-1"),
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_round_trip_and_v1(kind):
    sample = SAMPLES[kind]
    assert json.loads(sample.to_json())["v"] == 1
    topic, parsed = p.parse_message(TOPICS[kind], sample.to_json())
    assert parsed == sample and topic.kind == kind


def test_topics_build_and_parse():
    assert p.Topic.parse(p.group_job_topic("county-x", "j-01")) == p.Topic("group_job", group="county-x", job="j-01")
    assert p.Topic.parse("kiosk/v1/mz-001/jobs/j-01/status") == p.Topic("job_status", kiosk="mz-001", job="j-01")
    for bad in ("kiosk/v1/MZ-001/state", "kiosk/v1/ab/state", "kiosk/v2/mz-001/state", "kiosk/v1/mz-001/jobs/j-01/x",
                "kiosk/v1/group/state", "kiosk/v1/mz-001/+", "kiosk/v1/-mz/state"):
        with pytest.raises(p.ProtocolError):
            p.Topic.parse(bad)
    with pytest.raises(p.ProtocolError):
        p.state_topic("a/b/c")
    assert p.valid_id("a" * 64) and not p.valid_id("a" * 65) and not p.valid_id("group")


def test_unknown_fields_are_tolerated_and_a_bad_one_is_named():
    raw = json.loads(SAMPLES["health"].to_json())
    raw["future_field"] = {"x": 1}
    raw["devices"]["receipt"]["extra"] = 1
    assert p.Health.parse(json.dumps(raw).encode()) == SAMPLES["health"]
    raw["devices"]["receipt"]["status"] = "on fire"
    with pytest.raises(p.ProtocolError) as err:
        p.Health.parse(json.dumps(raw).encode())
    assert err.value.field == "health.devices.receipt.status"
    for field, value in (("v", 2), ("ts", "2024-05-01 08:00:00"), ("ts", "2024-05-01T08:00:00+08:00"),
                         ("seq", -1), ("seq", True), ("boot_id", "")):
        bad = dict(json.loads(SAMPLES["events"].to_json()), **{field: value})
        with pytest.raises(p.ProtocolError) as err:
            p.Event.parse(json.dumps(bad).encode())
        assert err.value.field == f"events.{field}"


def test_evaluations_need_all_five_levels():
    raw = json.loads(SAMPLES["metrics"].to_json())
    del raw["evaluations"]["dissatisfied"]
    with pytest.raises(p.ProtocolError, match="metrics.evaluations.dissatisfied"):
        p.Metrics.parse(json.dumps(raw).encode())


def test_hostile_json_is_refused_cleanly():
    for data in (b"[" * 100000, b"1" * 5000, b'{"v":1,"seq":' + b"9" * 5000 + b"}", b'{"v":NaN}', b"\xff\xfe",
                 b"x" * (MAX_PAYLOAD + 1)):
        with pytest.raises(p.ProtocolError):
            p.Event.parse(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)


def _mutations(kind: str):
    """Valid messages with one field replaced, removed or nested strangely."""
    base = json.loads(SAMPLES[kind].to_json())
    return st.builds(lambda key, value, drop: {k: v for k, v in {**base, key: value}.items() if k != drop},
                     st.sampled_from(sorted(base)), json_values, st.sampled_from([None, *sorted(base)]))


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_hostile_payloads_never_crash_a_parser(kind, data):
    payload = data.draw(st.one_of(st.binary(max_size=200), _mutations(kind).map(lambda d: json.dumps(d).encode())))
    try:
        parsed = p.PAYLOADS[kind].parse(payload)
    except p.ProtocolError as exc:
        assert exc.field
    else:  # accepted: it must survive its own round trip unchanged
        assert p.PAYLOADS[kind].parse(parsed.to_json()) == parsed


@settings(max_examples=100, deadline=None)
@given(topic=st.text(max_size=80) | st.sampled_from(list(TOPICS.values())).map(lambda t: t + "/x"))
def test_hostile_topics_never_crash_the_topic_parser(topic):
    try:
        parsed = p.Topic.parse(topic)
    except p.ProtocolError:
        return
    assert parsed.kind in {"state", "health", "metrics", "events", "job", "group_job", "job_status"}


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=200) | _mutations("job").map(lambda d: json.dumps(d).encode()))
def test_hostile_jobs_are_answered_never_raised(tmp_path_factory, payload):
    """The agent's job intake: every job message ends in a run or a final answer."""
    answers = []
    store = JobStore(tmp_path_factory.mktemp("jobs") / "jobs.json")
    runner = JobRunner(store, JobHooks(), lambda *a: answers.append(a), lambda on: None, None)
    job = runner.receive("job-1", payload)
    if job is None:
        assert answers and answers[-1][1] in (p.REJECTED, p.TIMED_OUT)
    else:
        runner.run(job)  # no hooks: everything it could do is rejected or maintenance
        assert answers[-1][1] in p.FINAL_STATUSES
