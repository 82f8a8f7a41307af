"""Running the app without its main loop, one frame at a time: for the UI tests and screenshots.

The app is built and started as ``App.run`` would, then driven by ``frames()``; touches
go through Kivy's real input path (``UnitTestTouch``), as a finger's would.
"""
from __future__ import annotations

import time

from kiosk.config import Config


class AppHarness:
    """``AppHarness(config, orientation)``: a started app; ``close()`` stops it."""

    def __init__(self, config: Config, orientation: str = "landscape"):
        from screens.run import prepare_kivy
        prepare_kivy(orientation, windowed=True)
        from kivy.base import EventLoop
        from kiosk.terminal import Terminal
        from screens.app import KioskApp
        self._loop = EventLoop
        self.app = KioskApp(Terminal(config))
        self.app._run_prepare()
        EventLoop.start()
        self.frames(5)

    def close(self) -> None:
        self.app.stop()
        self._loop.close()

    def frames(self, count: int = 3) -> None:
        for _ in range(count):
            self._loop.idle()

    def wait(self, predicate, timeout: float = 10.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self.frames(1)

    def settle(self, most: int = 30) -> None:
        """Frames until the layout stops moving, so positions are where a finger would see them
        (a page's scrolling moves its content without changing the content's own positions)."""
        from kivy.uix.scrollview import ScrollView
        last = None
        for _ in range(most):
            self.frames(1)
            now = tuple((round(w.x), round(w.y), round(w.width), round(w.height),
                         *((round(w.scroll_x, 3), round(w.scroll_y, 3)) if isinstance(w, ScrollView) else ()))
                        for w in self.app.root.walk(restrict=True))
            if now == last:
                return
            last = now

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
        """Visible widgets of ``cls`` whose text contains ``text`` (screen and top bar, or ``root``)."""
        self.settle()
        topbar = self.app.root.ids.topbar
        roots = [root] if root is not None else [self.app.screen] + ([topbar] if topbar.opacity else [])
        return [w for top in roots for w in top.walk(restrict=True)
                if (cls is None or isinstance(w, cls))
                and (text is None or text in getattr(w, "text", ""))
                and w.opacity > 0 and not w.disabled]

    def find(self, cls=None, text: str | None = None, root=None):
        found = self.find_all(cls, text, root)
        assert found, f"no widget {cls.__name__ if cls else ''} with text {text!r} on {self.screen}"
        return found[0]

    def reset(self) -> None:
        """No visit, a fresh attract screen, default language and style."""
        from kiosk.session import EndReason
        self.app.terminal.session.end(EndReason.FINISHED)
        self.app.style.large = self.app.style.high_contrast = False
        self.app.lang = self.app.terminal.config.terminal.language
        self.app.history = []
        self.app.show("attract")
        self.frames(3)

    def screenshot(self, path) -> None:
        """The window as a person sees it, overlays included, saved to ``path``."""
        import os
        self.settle()
        saved = self._loop.window.screenshot(name=str(path))
        os.replace(saved, path)
