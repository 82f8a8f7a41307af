"""The platform goes away with cases queued: the terminal keeps accepting and answering,
and everything arrives, exactly once, after the platform returns (the real sandbox
process stopped and started again on the same port and database)."""
from __future__ import annotations

import pytest

from _cases_fixtures import sandbox_at, store_config, wait_for
from _outbox_driver import application
from kiosk.cases import Cases
from kiosk.catalog.loader import BUNDLED, load_catalog
from kiosk.outbox import status

pytestmark = pytest.mark.timeout(300)
ITEM = next(i for i in load_catalog(BUNDLED).items if i.code.basic == "0500101001")


def test_cases_queue_through_an_outage_and_all_arrive_once(tmp_path):
    with sandbox_at(tmp_path, pace=0.2) as sandbox:
        cfg = store_config(tmp_path, sandbox.url, sandbox.token_file, terminal="outage-1", retry_max_s=1.0)
        cases = Cases.open(cfg)
        cases.start()
        item = ITEM
        try:
            first = cases.submit(application(1, tmp_path, item), wait_s=10)
            assert first.delivered
            sandbox.stop()  # the line is down
            queued = [cases.submit(application(i, tmp_path, item), wait_s=1) for i in range(2, 8)]
            assert all(not s.delivered and s.status == "queued" for s in queued)
            assert cases.find(queued[0].ref).status == "queued"  # still answering
            assert cases.find(first.case_no).case_no == first.case_no  # the last known state
            figures = status(cases.store)
            assert figures["pending"] == 6 and figures["oldest_pending_age_s"] is not None
            sandbox.start()  # back, on the same port and database
            wait_for(lambda: status(cases.store)["pending"] == 0, 60, "the queue to drain")
            refs = [c["ref"] for c in sandbox.summary()["cases"] if c["terminal"] == "outage-1"]
            assert sorted(refs) == sorted([first.ref] + [s.ref for s in queued])
            assert all(cases.find(s.ref).delivered for s in queued)
        finally:
            cases.close()
