"""Starting the app: Kivy's settings must be made before its window exists."""
from __future__ import annotations

import os

from kiosk.config import Config


SIZES = {"landscape": (1920, 1080), "portrait": (1080, 1920)}


def prepare_kivy(orientation: str = "landscape", *, windowed: bool = False, scale: float = 1.0,
                 allow_exit: bool = False) -> None:
    """Settings Kivy reads once, at import: no argument parsing, no log files, size."""
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


def run(config: Config, windowed: bool = False, orientation: str = "landscape") -> int:
    prepare_kivy(orientation, windowed=windowed, scale=0.5 if windowed else 1.0,
                 allow_exit=config.maintenance.allow_exit)
    from kiosk.terminal import Terminal
    from screens.app import KioskApp
    KioskApp(Terminal(config)).run()
    return 0
