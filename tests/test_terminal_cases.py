"""``terminal.cases``: nothing of it loaded before it is used; the terminal's start resumes
delivering what a previous run left queued; the outbox sets the fleet's gauge."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime

from _cases_fixtures import sandbox_at, store_config, wait_for
from _outbox_driver import application
from fleet.protocol import Stamp
from kiosk.cases import Cases
from kiosk.terminal import Terminal


def test_the_app_imports_no_store_crypto_or_platform_client():
    code = ("import sys, kiosk.terminal, kiosk.cli, kiosk.config; "
            "print(sorted(m for m in ('kiosk.store', 'kiosk.outbox', 'kiosk.upstream.client', 'cryptography', 'ssl')"
            " if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_start_resumes_what_was_queued(tmp_path):
    with sandbox_at(tmp_path, pace=5.0) as sandbox:
        token = sandbox.token_file
        offline = store_config(tmp_path, "", token, terminal="resume-1")
        queued = Cases.open(offline)
        ref = queued.submit(application(1, tmp_path), wait_s=0).ref
        queued.close()
        terminal = Terminal(store_config(tmp_path, sandbox.url, token, terminal="resume-1"))
        try:
            terminal.start()  # no device configured; the store has a database: the outbox starts
            wait_for(lambda: [c for c in sandbox.summary()["cases"] if c["ref"] == ref and c["submitted"]], 30,
                     "delivery")
            wait_for(lambda: terminal.cases.find(ref).delivered, 10, "the commit")
            wait_for(lambda: terminal.counters.take(Stamp(datetime.now().astimezone(), 1, "b")).outbox_pending == 0,
                     10, "the gauge")
        finally:
            terminal.close()
