"""kill -9 at every point of submit and delivery: after a restart every case the kiosk
accepted is on the platform exactly once, with all its pages.

A kiosk subprocess (tests/_outbox_driver.py) submits five applications and delivers
them; ``KIOSK_CRASH_AT=N`` makes it SIGKILL itself at the Nth named point it passes
(kiosk/crashpoints.py: each page sealed, before and after the submit's commit, the
message taken, the case created, its number saved, each page uploaded, submitted,
the final commit). Then a second process drains the store, and the sandbox's own
record is compared with the store's. A few more runs are killed from outside after a
random delay, wherever they are (inside SQLite's commit, half way through a file).
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _cases_fixtures import sandbox_at, write_config

pytestmark = pytest.mark.timeout(900)
TESTS = Path(__file__).resolve().parent
CASES = 5
TIMED_KILLS = 8


def run(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TESTS / "_outbox_driver.py"), str(config), *args],
                          env={**os.environ, "PYTHONPATH": str(TESTS), **env}, capture_output=True, text=True,
                          timeout=180)


def promised(out: str) -> set[str]:
    """The references whose submit returned: what the kiosk told the citizen it had.

    A line the kill cut short names no reference: that submit had not finished telling."""
    return {line.split()[2] for line in out.splitlines(keepends=True)
            if line.startswith("SUBMITTED ") and line.endswith("\n") and len(line.split()) == 3}


def check_exactly_once(sandbox, store_dir: Path, terminal: str, told: set[str]) -> None:
    on_platform = [c for c in sandbox.summary()["cases"] if c["terminal"] == terminal]
    refs = [c["ref"] for c in on_platform]
    assert len(refs) == len(set(refs)), f"{terminal}: a case reached the platform twice: {sorted(refs)}"
    with sqlite3.connect(store_dir / "kiosk.sqlite") as db:
        local = dict(db.execute("SELECT ref, case_no FROM cases").fetchall())
        states = db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
    assert states in ([], [("delivered", len(local))]), f"{terminal}: outbox after the drain: {states}"
    assert told <= set(local), f"{terminal}: accepted but lost: {told - set(local)}"
    assert {c["ref"]: c["case_no"] for c in on_platform} == local
    assert all(c["submitted"] and c["pages"] == 3 for c in on_platform), on_platform


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with sandbox_at(tmp_path_factory.mktemp("sandbox"), pace=5.0) as sb:
        yield sb


def test_kill_at_every_point_loses_nothing_and_duplicates_nothing(sandbox, tmp_path):
    trace = tmp_path / "trace.txt"
    config = write_config(tmp_path / "trace", sandbox.url, sandbox.token_file, "trace")
    assert run(config, "submit", "0", str(CASES), KIOSK_CRASH_TRACE=str(trace)).returncode == 0
    points = [line.split()[1] for line in trace.read_text().splitlines()]
    assert len(points) >= 50 and {"submit.before_commit", "case.created", "case.uploaded", "case.committed"} <= set(points)
    killed_at = set()
    for n in range(1, len(points) + 1):
        root = tmp_path / f"k{n}"
        config = write_config(root, sandbox.url, sandbox.token_file, f"k{n}")
        crashed = run(config, "submit", str(n * 10), str(CASES), KIOSK_CRASH_AT=str(n),
                      KIOSK_CRASH_TRACE=str(root / "trace.txt"))
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
        killed_at.add((root / "trace.txt").read_text().splitlines()[-1].split()[1])
        drained = run(config, "drain")
        assert drained.returncode == 0, drained.stderr[-2000:]
        check_exactly_once(sandbox, root / "store", f"k{n}", promised(crashed.stdout))
    assert killed_at == set(points)  # every kind of point was hit


def test_kill_at_random_instants(sandbox, tmp_path):
    rng = random.Random(4)
    for k in range(TIMED_KILLS):
        root = tmp_path / f"t{k}"
        config = write_config(root, sandbox.url, sandbox.token_file, f"t{k}")
        proc = subprocess.Popen([sys.executable, str(TESTS / "_outbox_driver.py"), str(config), "submit",
                                 str(k * 10), str(CASES)], env={**os.environ, "PYTHONPATH": str(TESTS)},
                                stdout=subprocess.PIPE, text=True)
        first = proc.stdout.readline()  # the first case is in: the process is past its imports
        time.sleep(rng.uniform(0, 0.4))
        proc.kill()
        out = first + proc.communicate()[0]
        drained = run(config, "drain")
        assert drained.returncode == 0, drained.stderr[-2000:]
        check_exactly_once(sandbox, root / "store", f"t{k}", promised(out))
