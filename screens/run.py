"""Starting the app: Kivy's settings must be made before its window exists."""
from __future__ import annotations

import ctypes
import os
import signal

from kiosk.config import Config


SIZES = {"landscape": (1920, 1080), "portrait": (1080, 1920)}
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def prepare_kivy(orientation: str = "landscape", *, windowed: bool = False, scale: float = 1.0,
                 allow_exit: bool = False) -> None:
    """Settings Kivy reads once, at import: no argument parsing, no log files, size."""
    return_large_blocks()
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config as KivyConfig
    width, height = SIZES[orientation]
    KivyConfig.set("graphics", "width", str(int(width * scale)))
    KivyConfig.set("graphics", "height", str(int(height * scale)))
    KivyConfig.set("graphics", "fullscreen", "0" if windowed else "auto")
    KivyConfig.set("kivy", "exit_on_escape", "1" if allow_exit else "0")
    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")


def return_large_blocks() -> None:
    """Large blocks freed go back to the system at once.

    With software GL every text texture is a heap block; glibc raises its mmap threshold
    after each large free, so the textures of screens that come and go would otherwise
    stay behind in a fragmented heap.
    """
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except AttributeError:  # not glibc
        pass


def return_free_heap() -> None:
    """Give the heap's free pages back to the system (a few ms; glibc keeps them otherwise)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except AttributeError:  # not glibc
        pass


def run(config: Config, windowed: bool = False, orientation: str = "landscape") -> int:
    prepare_kivy(orientation, windowed=windowed, scale=0.5 if windowed else 1.0,
                 allow_exit=config.maintenance.allow_exit)
    from kivy.clock import Clock
    from kiosk.terminal import Terminal
    from screens.app import KioskApp
    app = KioskApp(Terminal(config))
    # systemd stops the unit with SIGTERM: end as cleanly as on the way out
    signal.signal(signal.SIGTERM, lambda signum, frame: Clock.schedule_once(lambda dt: app.stop()))
    app.run()
    return app.exit_code
