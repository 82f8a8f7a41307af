"""A private X server (Xvfb) for rendering the screens where there is no display.

Used by the UI tests and by ``kiosk screenshots`` when ``DISPLAY`` is not set. Mesa
renders real OpenGL on it, so Kivy draws exactly as on the terminal.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path


class Xvfb:
    """``with Xvfb() as display:`` starts a server on a free display number and stops it."""

    def __init__(self, width: int = 1920, height: int = 1920):
        self.size = (width, height)
        self.display = ""
        self._process: subprocess.Popen | None = None

    def start(self) -> str:
        if not shutil.which("Xvfb"):
            raise RuntimeError("Xvfb is not installed: install the package xvfb")
        for number in range(90, 190):
            if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
                continue
            self._process = subprocess.Popen(
                ["Xvfb", f":{number}", "-screen", "0", f"{self.size[0]}x{self.size[1]}x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self._process.poll() is None:
                if Path(f"/tmp/.X11-unix/X{number}").exists():
                    self.display = f":{number}"
                    return self.display
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("Xvfb did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None

    def __enter__(self) -> str:
        display = self.start()
        os.environ["DISPLAY"] = display
        return display

    def __exit__(self, *exc: object) -> None:
        self.stop()
