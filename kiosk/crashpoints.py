"""Named points where the crash tests kill the process (SIGKILL), to prove nothing is lost.

``KIOSK_CRASH_AT=N`` makes the process kill itself at the Nth point it passes;
``KIOSK_CRASH_TRACE=FILE`` appends the name of every point passed to FILE. Neither is set
on a terminal, where ``point`` costs one test of a constant.
"""
from __future__ import annotations

import os
import signal
import threading

_AT = int(os.environ.get("KIOSK_CRASH_AT") or 0)
_TRACE = os.environ.get("KIOSK_CRASH_TRACE", "")
_ARMED = bool(_AT or _TRACE)
_lock = threading.Lock()
_passed = 0


def point(name: str) -> None:
    """Passing the point ``name`` (e.g. ``"case.created"``)."""
    if not _ARMED:
        return
    global _passed
    with _lock:
        _passed += 1
        if _TRACE:
            with open(_TRACE, "a", encoding="utf-8") as trace:
                trace.write(f"{_passed} {name}\n")
        if _passed == _AT:
            os.kill(os.getpid(), signal.SIGKILL)
