"""Whatever bytes the store's payload and progress columns or the sealed scan files come to
hold (a bad disk, a bad restore), the outbox worker does not crash: the message is marked
failed with a log line, and the next message is delivered. Against the real sandbox."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from _cases_fixtures import sandbox_at, store_config
from _outbox_driver import application
from kiosk.cases import Cases
from kiosk.outbox import DELIVERED, FAILED, PENDING

pytestmark = pytest.mark.timeout(600)
TARGETS = ("payload", "progress", "file", "sha256")


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    root = tmp_path_factory.mktemp("corruption")
    with sandbox_at(root, pace=5.0) as sandbox:
        cases = Cases.open(store_config(root, sandbox.url, sandbox.token_file, terminal="corrupt"))  # not started:
        (root / "pages").mkdir()
        cases.pages = root / "pages"
        yield cases  # the test turns it by hand with run_once
        cases.close()


def corrupt(cases: Cases, ref: str, target: str, data: bytes) -> None:
    store = cases.store
    with store.transaction() as tx:
        if target == "payload":
            tx.execute("UPDATE outbox SET payload = ? WHERE ref = ?", (data, ref))
        elif target == "progress":
            tx.execute("UPDATE outbox SET progress = ? WHERE ref = ?", (data.decode("utf-8", "replace"), ref))
        elif target == "sha256":
            tx.execute("UPDATE materials SET sha256 = ? WHERE ref = ? AND idx = 1", (data.hex(), ref))
    if target == "file":
        path = store.files / store.value("SELECT path FROM materials WHERE ref = ? AND idx = 1 AND page = 2", (ref,))
        Path(path).write_bytes(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), data=st.binary(max_size=300) | st.sampled_from(
    [b"{}", b"[]", b'{"case_no": "44081100000000000000"}', b'{"case_no": 7}', b"null", b'"x"']))
def test_damaged_messages_fail_alone_and_loudly(cases, caplog, target, data):
    damaged = cases.submit(application(1, cases.pages), wait_s=0)
    corrupt(cases, damaged.ref, target, data)
    sound = cases.submit(application(2, cases.pages), wait_s=0)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="kiosk.outbox"):
        for _ in range(2):
            cases.outbox.nudge()  # out of any pause a 5xx began
            assert cases.outbox.run_once()
    state = dict(cases.store.rows("SELECT ref, state FROM outbox WHERE ref IN (?, ?)", (damaged.ref, sound.ref)))
    assert state[sound.ref] == DELIVERED
    if target in ("payload", "file", "sha256"):
        assert state[damaged.ref] == FAILED
    assert state[damaged.ref] in (FAILED, DELIVERED, PENDING)
    if state[damaged.ref] == FAILED:
        assert any(damaged.ref in r.getMessage() for r in caplog.records), caplog.text
