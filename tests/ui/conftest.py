"""The app under Xvfb with real GL (Mesa), driven by real touches through Kivy's input path.

One app per test session (Kivy has one window per process); every test starts from the
attract screen. Its devices are the simulators of ``SimulatedStation``, except the
PC/SC reader: libpcsclite takes one pcscd socket per process, and the PC/SC tests in
this process use their own. Its ``[store]`` is a temp dir and its ``[upstream]`` the
session's own upstream sandbox (``kiosk.upstream.sandbox``; a step of a case every
``SANDBOX_PACE`` seconds), so cases go through the real outbox to a real platform.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from screens.run import prepare_kivy

prepare_kivy("landscape", windowed=True)  # before any test module imports Kivy's window

from drivers.sim.station import SimulatedStation  # noqa: E402
from kiosk import config  # noqa: E402
from kiosk.sealed import provision_key  # noqa: E402
from kiosk.upstream.sandbox.process import SandboxProcess  # noqa: E402
from screens.harness import AppHarness  # noqa: E402
from screens.xvfb import Xvfb  # noqa: E402


@pytest.fixture(scope="session")
def station():
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-ui-", dir="/tmp"))
    try:
        with SimulatedStation(run_dir, printer_port=0) as sim:
            yield sim
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


SANDBOX_PACE = 1.0


@pytest.fixture(scope="session")
def sandbox(station):
    with SandboxProcess(station.run_dir / "sandbox" / "platform.db", pace=SANDBOX_PACE) as platform:
        platform.token_file = str(platform.options(station.run_dir / "sandbox" / "token").token_file)
        yield platform


@pytest.fixture(scope="session")
def harness(station, sandbox):
    with Xvfb():
        sections = {n: s for n, s in station.sections().items() if n != "staffcard"}
        cfg = config.parse({"terminal": {"station": "湖光镇东岭村便民服务站", "opening_hours": "每天 0:00—24:00"},
                            "maintenance": {"pin": "2468"}, "devices": sections,
                            "queue": {"db": str(station.run_dir / "queue.sqlite"), "staff_cards": ["04A22B5C"]},
                            "store": {"dir": str(station.run_dir / "store"),
                                      "key_file": str(provision_key(station.run_dir / "store.key"))},
                            "upstream": {"url": sandbox.url, "token_file": sandbox.token_file, "timeout_s": 5.0}},
                           station.run_dir / "ui.toml")
        harness = AppHarness(cfg)
        harness.station = station
        harness.sandbox = sandbox
        try:
            yield harness
        finally:
            harness.close()


@pytest.fixture
def ui(harness):
    harness.reset()
    return harness
