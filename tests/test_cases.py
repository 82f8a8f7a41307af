"""Applications end to end against the real upstream sandbox (a subprocess on loopback):
submit, receipt, follow, certificate, evaluations; personal data sealed at rest, purged
after the retention period, and every read of it in the audit log."""
from __future__ import annotations

import socket
import sqlite3
from datetime import datetime, timedelta
from itertools import count

import pytest

from _cases_fixtures import sandbox_at, store_config, wait_for
from _outbox_driver import application, id_number_of
from kiosk import audit, deliveries
from kiosk.cases import Cases, Evaluation
from kiosk.catalog.loader import BUNDLED, load_catalog
from kiosk.fleet_counters import Counters
from kiosk.sealed import SealError, provision_key
from kiosk.upstream.client import Unavailable

CATALOG = load_catalog(BUNDLED)
TWENTY_DAYS = next(i for i in CATALOG.items if i.code.basic == "0500101001")  # 20 working days
ON_THE_SPOT = next(i for i in CATALOG.items if i.code.basic == "2000102000")
_serial = count(100)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with sandbox_at(tmp_path_factory.mktemp("sandbox"), pace=0.2) as sb:
        yield sb


def open_cases(root, url, token_file, **store) -> tuple[Cases, Counters]:
    counters = Counters()
    cases = Cases.open(store_config(root, url, token_file, terminal=f"t{next(_serial)}", **store), counters)
    cases.start()
    return cases, counters


@pytest.fixture()
def online(tmp_path, sandbox):
    cases, counters = open_cases(tmp_path, sandbox.url, sandbox.token_file)
    cases.counters = counters
    yield cases
    cases.close()


@pytest.fixture()
def offline(tmp_path, sandbox):
    """Cases whose platform refuses connections (a port nobody listens on)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cases, _ = open_cases(tmp_path, f"http://127.0.0.1:{port}", sandbox.token_file)
    yield cases
    cases.close()


def on_platform(sandbox, ref: str) -> list[dict]:
    return [c for c in sandbox.summary()["cases"] if c["ref"] == ref]


def test_submit_reaches_the_platform_before_the_receipt(online, sandbox, tmp_path):
    submitted = online.submit(application(next(_serial), tmp_path, TWENTY_DAYS), wait_s=10)
    assert submitted.delivered and submitted.case_no and submitted.progress_ref == submitted.case_no
    assert submitted.status == "submitted"
    assert submitted.materials == (("居民身份证", 1), ("户口簿", 2))
    assert submitted.masked_id.startswith("440811") and "*" * 8 in submitted.masked_id
    assert submitted.promised_date > submitted.submitted_at.date()
    [platform] = on_platform(sandbox, submitted.ref)
    assert platform["case_no"] == submitted.case_no and platform["submitted"] and platform["pages"] == 3
    assert online.counters.take(_stamp()).cases_by_item == {TWENTY_DAYS.code.basic: 1}
    view = wait_for(lambda: (v := online.find(submitted.case_no)) and v.status == "completed" and v, what="completed")
    assert [h[1] for h in view.history] == ["submitted", "accepted", "processing", "completed"]
    assert view.ref == submitted.ref and view.certificate_ready and not view.overdue
    assert online.find(submitted.ref) == view  # by the terminal's own reference too


def test_an_on_the_spot_item_ends_with_its_certificate(online, tmp_path):
    submitted = online.submit(application(next(_serial), tmp_path, ON_THE_SPOT), wait_s=10)
    assert submitted.status == "completed"
    view = online.find(submitted.case_no)
    certificate = online.certificate(view)
    assert certificate.pdf.startswith(b"%PDF-") and certificate.verification_code
    assert certificate.case_no == submitted.case_no and certificate.item_name == ON_THE_SPOT.name


def test_a_refused_application_carries_the_reason(online, tmp_path):
    app = application(next(_serial), tmp_path, TWENTY_DAYS)
    bad = app.applicant.__class__(**{**app.applicant.__dict__, "id_number": app.applicant.id_number[:-1] + "0"
                                     if app.applicant.id_number[-1] != "0" else app.applicant.id_number[:-1] + "1"})
    submitted = online.submit(app.__class__(app.item, bad, app.form, app.materials), wait_s=10)
    view = wait_for(lambda: (v := online.find(submitted.case_no)) and v.status == "rejected" and v, what="rejected")
    assert "不予受理" in view.reason


def test_queued_while_the_platform_is_away(offline, tmp_path):
    submitted = offline.submit(application(next(_serial), tmp_path, TWENTY_DAYS), wait_s=5)
    assert not submitted.delivered and submitted.status == "queued" and submitted.case_no == ""
    assert submitted.progress_ref == submitted.ref
    view = offline.find(submitted.ref)
    assert view.status == "queued" and not view.delivered and view.promised_date == submitted.promised_date
    assert [v.ref for v in offline.for_person(submitted_id(submitted))] == [submitted.ref]
    with pytest.raises(Unavailable):
        offline.certificate(view)
    assert offline.receipt(submitted.ref) == submitted  # the receipt can be printed again


def submitted_id(submitted) -> str:
    return id_number_of(int(submitted.applicant_name.removeprefix("测试")))


def test_nothing_personal_is_readable_at_rest(offline, tmp_path):
    app = application(next(_serial), tmp_path, TWENTY_DAYS)
    offline.submit(app, wait_s=0)
    offline.evaluate(Evaluation("", "very_dissatisfied", {}, ("It took too long",), "窗口人员态度差", "13912345678"))
    offline.book({"kind": "home_visit", "name": "王秀英", "address": "东岭村八号", "phone": "13700001111"})
    at_rest = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file())
    a = app.applicant
    for secret in (a.name, a.id_number, a.address, a.phone, "入学", "窗口人员态度差", "13912345678", "王秀英", "东岭村八号"):
        assert secret.encode() not in at_rest and secret.encode("utf-16-le") not in at_rest, secret
    for page in app.materials[1].pages:
        assert page.read_bytes()[8:40] not in at_rest  # the scans are sealed too
    assert len(list((tmp_path / "store" / "materials").rglob("*.sealed"))) == 3


def test_another_key_is_refused_loudly(tmp_path, sandbox):
    cases, _ = open_cases(tmp_path, "", sandbox.token_file)
    cases.submit(application(next(_serial), tmp_path, TWENTY_DAYS), wait_s=0)
    cases.close()
    (tmp_path / "store.key").unlink()
    provision_key(tmp_path / "store.key")
    with pytest.raises(SealError, match="wrong key"):
        open_cases(tmp_path, "", sandbox.token_file)


def test_retention_purges_personal_data_and_keeps_the_skeleton(online, tmp_path):
    submitted = online.submit(application(next(_serial), tmp_path, TWENTY_DAYS), wait_s=10)
    assert submitted.delivered
    store = online.store
    assert deliveries.purge(store, 30, datetime.now().astimezone() + timedelta(days=29)) == 0
    assert deliveries.purge(store, 30, datetime.now().astimezone() + timedelta(days=31)) == 1
    row = store.row("SELECT * FROM cases WHERE ref = ?", (submitted.ref,))
    assert row["applicant"] is None and row["person"] is None and row["purged_at"]
    assert (row["case_no"], row["item_code"], row["submitted_at"]) == (
        submitted.case_no, TWENTY_DAYS.code.basic, submitted.submitted_at.isoformat())
    assert store.value("SELECT count(*) FROM materials WHERE ref = ? AND path IS NULL", (submitted.ref,)) == 3
    assert store.value("SELECT payload FROM outbox WHERE ref = ?", (submitted.ref,)) is None
    assert not (store.files / submitted.ref).exists()
    assert online.receipt(submitted.ref) is None
    assert online.find(submitted.case_no).case_no == submitted.case_no  # the platform still knows it
    assert ("system", "retention.purge", submitted.ref) in [(e.actor, e.action, e.subject) for e in audit.entries(store)]


def test_every_read_of_personal_data_is_audited(online, tmp_path):
    submitted = online.submit(application(next(_serial), tmp_path, ON_THE_SPOT), wait_s=10)
    id_number = submitted_id(submitted)
    online.find(submitted.case_no)
    online.for_person(id_number, actor="agent:A1")
    online.certificate(online.find(submitted.ref))
    online.receipt(submitted.ref)
    entries = [(e.actor, e.action, e.subject) for e in audit.entries(online.store)]
    assert entries == [("citizen", "case.find", submitted.case_no),
                       ("agent:A1", "case.for_person", submitted.masked_id),
                       ("citizen", "case.find", submitted.ref),
                       ("citizen", "case.certificate", submitted.case_no),
                       ("citizen", "case.receipt", submitted.ref)]
    raw = sqlite3.connect(online.store.dir / "kiosk.sqlite").execute("SELECT * FROM audit").fetchall()
    assert id_number not in repr(raw)


def test_last_known_state_when_the_platform_is_away(tmp_path, sandbox):
    cases, _ = open_cases(tmp_path, sandbox.url, sandbox.token_file)
    submitted = cases.submit(application(next(_serial), tmp_path, ON_THE_SPOT), wait_s=10)
    known = cases.for_person(submitted_id(submitted))
    cases.close()
    away, _ = open_cases(tmp_path, "", sandbox.token_file)  # the same store, no platform
    try:
        assert away.for_person(submitted_id(submitted)) == known
        assert away.find(submitted.case_no) == known[0]
    finally:
        away.close()


def test_evaluation_complaint_and_booking_go_through_the_outbox(online, sandbox, tmp_path):
    before = sandbox.summary()["records"]
    submitted = online.submit(application(next(_serial), tmp_path, ON_THE_SPOT), wait_s=10)
    poor = Evaluation(submitted.ref, "dissatisfied", {"overall": "dissatisfied", "attitude": "satisfied"},
                      ("等待时间太长",), "排队太久", "13912345678")
    online.evaluate(poor)
    online.complain(poor)
    slot = online.appointment_slots("民政", (datetime.now() + timedelta(days=1)).date().isoformat())[0]
    ref = online.book({"kind": "window", "window": "民政", "slot": {"slot_id": slot["slot_id"]}, "name": "王秀英"})
    assert ref.startswith(online.terminal_id + "-A")
    store = online.store
    wait_for(lambda: store.value("SELECT count(*) FROM outbox WHERE state = 'delivered'") == 4, what="delivery")
    after = sandbox.summary()["records"]
    assert {k: after.get(k, 0) - before.get(k, 0) for k in ("evaluation", "complaint", "booking")} == \
        {"evaluation": 1, "complaint": 1, "booking": 1}
    assert store.value("SELECT complaint_no FROM complaints")
    assert store.value("SELECT booking_no FROM appointments WHERE ref = ?", (ref,))
    assert online.counters.take(_stamp()).evaluations["dissatisfied"] == 1


def test_an_evaluation_waits_for_its_queued_case(tmp_path, sandbox):
    sandbox.outage(3.0)
    cases, _ = open_cases(tmp_path, sandbox.url, sandbox.token_file)
    try:
        submitted = cases.submit(application(next(_serial), tmp_path, ON_THE_SPOT), wait_s=1)
        assert not submitted.delivered
        cases.evaluate(Evaluation(submitted.ref, "very_satisfied", {"overall": "very_satisfied"}))
        store = cases.store
        wait_for(lambda: store.value("SELECT count(*) FROM outbox WHERE state = 'delivered'") == 2, 60,
                 "delivery after the outage")
        assert store.value("SELECT count(*) FROM outbox WHERE state = 'failed'") == 0
    finally:
        cases.close()


def test_stuck_outbox_is_reported_and_counted(tmp_path, sandbox):
    stuck = []
    counters = Counters()
    cfg = store_config(tmp_path, "", sandbox.token_file, terminal=f"t{next(_serial)}", stuck_after_s=0.2)
    cases = Cases.open(cfg, counters, on_stuck=lambda n, age: stuck.append((n, age)))
    cases.start()
    try:
        cases.submit(application(next(_serial), tmp_path, TWENTY_DAYS), wait_s=0)
        cases.submit(application(next(_serial), tmp_path, TWENTY_DAYS), wait_s=0)
        wait_for(lambda: stuck, 90, "outbox.stuck")
        assert stuck[0][0] == 2 and stuck[0][1] > 0.2
        assert counters.take(_stamp()).outbox_pending == 2
    finally:
        cases.close()


def _stamp():
    from fleet.protocol import Stamp
    return Stamp(datetime.now().astimezone(), 1, "boot")
