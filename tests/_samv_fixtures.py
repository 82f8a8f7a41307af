"""Shared fixtures for the SAM reader tests: the simulator on a real pty, and a driver on it."""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.idcard.samv import SamvOptions, SamvReader
from drivers.sim.samv_reader import SimulatedSamvReader


def wait_until(condition: Callable[[], bool], limit: float = 10.0) -> bool:
    """Poll ``condition`` until true; a generous limit only stops a broken test from hanging."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def sim(tmp_path):
    with SimulatedSamvReader(link=tmp_path / "samv-tty") as simulator:
        yield simulator


@pytest.fixture
def reader(sim):
    device = SamvReader("idcard", SamvOptions(port=sim.port, timeout_s=1.0, poll_interval_s=0.05))
    device.start()
    yield device
    device.close()
