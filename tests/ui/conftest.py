"""The app under Xvfb with real GL (Mesa), driven by real touches through Kivy's input path.

One app per test session (Kivy has one window per process); every test starts from the
attract screen. Its devices are the simulators of ``SimulatedStation``, except the
PC/SC reader: libpcsclite takes one pcscd socket per process, and the PC/SC tests in
this process use their own.
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


@pytest.fixture(scope="session")
def harness(station):
    with Xvfb():
        sections = {n: s for n, s in station.sections().items() if n != "staffcard"}
        cfg = config.parse({"terminal": {"station": "湖光镇东岭村便民服务站"},
                            "maintenance": {"pin": "2468"}, "devices": sections},
                           station.run_dir / "ui.toml")
        harness = AppHarness(cfg)
        harness.station = station
        try:
            yield harness
        finally:
            harness.close()


@pytest.fixture
def ui(harness):
    harness.reset()
    return harness
