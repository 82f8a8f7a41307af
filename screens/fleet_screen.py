"""The app's part in the fleet: the maintenance page, window captures, quitting for a restart.

``FleetScreen(app, link)`` attaches itself to the terminal's ``FleetLink`` and tells it
which page shows, so the fleet state follows the screen: the technicians' maintenance
screen → ``maintenance``, the out-of-service page → ``out_of_service`` (``maintenance``
while a maintenance job holds the terminal), anything else → ``online``. The link calls it from the agent's thread;
whatever touches Kivy is moved to the UI thread.
"""
from __future__ import annotations

import io
import logging
import threading

from kivy.clock import Clock
from kivy.core.window import Window

log = logging.getLogger(__name__)
CAPTURE_WAIT_S = 10.0


class FleetScreen:
    def __init__(self, app, link):
        self.app, self.link = app, link
        link.screen = self
        app.manager.fbind("current", self._page_changed)
        self._page_changed()

    def close(self) -> None:
        self.app.manager.funbind("current", self._page_changed)
        self.link.screen = None

    def _page_changed(self, *_: object) -> None:
        current = self.app.manager.current  # while a maintenance job holds the terminal, the link says so
        self.link.page(current if current in ("maintenance", "out_of_service") else "online")

    # -- what the link asks for (on the agent's thread) ---------------------------------
    def show_maintenance(self, on: bool) -> None:
        Clock.schedule_once(lambda dt: self.app.service_watch.check())

    def quit(self, code: int) -> None:
        self.app.exit_code = code
        Clock.schedule_once(lambda dt: self.app.stop())

    def capture_png(self) -> bytes:
        """The window as shown, as PNG: drawn and read on the UI thread, encoded here."""
        done, got = threading.Event(), {}

        def grab(dt: float) -> None:
            try:
                got["pixels"] = read_window()
            except Exception as exc:  # handed to the waiting thread
                got["error"] = exc
            finally:
                done.set()

        Clock.schedule_once(grab)
        if not done.wait(CAPTURE_WAIT_S):
            raise TimeoutError("the screen did not answer")
        if "error" in got:
            raise got["error"]
        from PIL import Image
        size, pixels = got["pixels"]
        image = Image.frombytes("RGB", size, pixels).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=False, compress_level=6)
        return out.getvalue()


def read_window() -> tuple[tuple[int, int], bytes]:
    """The window's pixels (RGB rows, bottom up) after drawing the frame afresh."""
    from kivy.graphics.opengl import GL_PACK_ALIGNMENT, GL_RGB, GL_UNSIGNED_BYTE, glPixelStorei, glReadPixels
    Window.dispatch("on_draw")  # into the back buffer, which is read before any swap
    width, height = Window.size
    glPixelStorei(GL_PACK_ALIGNMENT, 1)
    return (width, height), glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
