"""The app under Xvfb with real GL (Mesa), driven by real touches through Kivy's input path.

One app per test session (Kivy has one window per process); every test starts from the
attract screen. Its devices are the simulators of ``SimulatedStation``, except the
PC/SC reader: libpcsclite takes one pcscd socket per process, and the PC/SC tests in
this process use their own.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from drivers.sim.station import SimulatedStation
from kiosk import config
from screens.xvfb import Xvfb


class Ui:
    """Drives the running app: frames, taps, finding widgets, waiting for a state."""

    def __init__(self, app, station):
        from kivy.base import EventLoop
        self.app, self.station, self._loop = app, station, EventLoop

    def frames(self, count: int = 3) -> None:
        for _ in range(count):
            self._loop.idle()

    def wait(self, predicate, timeout: float = 10.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self.frames(1)

    @property
    def screen(self) -> str:
        return self.app.manager.current

    def tap(self, target) -> None:
        """Press and release at a widget's centre (or at window coordinates ``(x, y)``)."""
        from kivy.tests.common import UnitTestTouch
        x, y = target if isinstance(target, tuple) else target.to_window(*target.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(2)
        touch.touch_up()
        self.frames(3)

    def find_all(self, cls=None, text: str | None = None, root=None) -> list:
        """Visible widgets of ``cls`` whose text contains ``text``, on the shown screen and top bar."""
        roots = [root] if root is not None else [self.app.screen, self.app.root.ids.topbar]
        found = []
        for top in roots:
            for widget in top.walk(restrict=True):
                if cls is not None and not isinstance(widget, cls):
                    continue
                if text is not None and text not in getattr(widget, "text", ""):
                    continue
                if widget.opacity == 0 or widget.disabled and widget is not self.app.root.ids.topbar:
                    continue
                found.append(widget)
        return found

    def find(self, cls=None, text: str | None = None, root=None):
        found = self.find_all(cls, text, root)
        assert found, f"no widget {cls.__name__ if cls else ''} with text {text!r} on {self.screen}"
        return found[0]

    def reset(self) -> None:
        self.app.style.large = self.app.style.high_contrast = False
        self.app.lang = "zh_CN"
        self.app.show("attract")
        self.frames(3)


@pytest.fixture(scope="session")
def station():
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-ui-", dir="/tmp"))
    try:
        with SimulatedStation(run_dir, printer_port=0) as sim:
            yield sim
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def running_app(station):
    with Xvfb():
        from screens.run import prepare_kivy
        prepare_kivy("landscape", windowed=True)
        from kivy.base import EventLoop
        from kiosk.terminal import Terminal
        from screens.app import KioskApp
        sections = {n: s for n, s in station.sections().items() if n != "staffcard"}
        cfg = config.parse({"terminal": {"station": "湖光镇东岭村便民服务站"}, "devices": sections},
                           station.run_dir / "ui.toml")
        app = KioskApp(Terminal(cfg))
        app._run_prepare()
        EventLoop.start()
        try:
            yield app
        finally:
            app.stop()
            EventLoop.close()


@pytest.fixture
def ui(running_app, station):
    driver = Ui(running_app, station)
    driver.reset()
    return driver
