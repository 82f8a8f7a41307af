"""Which device status changes are fleet events (``printer.paper_out``, ``idcard.offline``, ...).

``DeviceEvents`` turns each ``StatusChange`` into the events it means: a device going to
``hardware_error`` or ``offline``, and back (``recovered``); paper near its end or out,
and refilled; a cover opened and shut. It remembers which devices have a fault reported,
so the first probe at start (from the initial ``offline``) is not taken for a recovery.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from drivers.base import Status, StatusChange

FAULTS = {Status.HARDWARE_ERROR: "critical", Status.OFFLINE: "warning"}
SERVING = (Status.ONLINE, Status.BUSY)
PAPER = {"near_end": "warning", "out": "critical"}


@dataclass(frozen=True)
class FleetEvent:
    type: str
    severity: str
    device: str
    message: str


def family(kind: str) -> str:
    """The event prefix of a device kind: every printer is ``printer``."""
    name = "printer" if kind.endswith("printer") else kind
    return re.sub(r"[^a-z0-9_]", "_", name.lower()) or "device"


class DeviceEvents:
    """Call ``events(change)`` on every status change, from any device thread."""

    def __init__(self) -> None:
        self._faulty: set[str] = set()
        self._lock = threading.Lock()

    def events(self, change: StatusChange) -> list[FleetEvent]:
        prefix, old, new = family(change.kind), change.old, change.new
        found: list[FleetEvent] = []

        def add(what: str, severity: str, message: str) -> None:
            found.append(FleetEvent(f"{prefix}.{what}", severity, change.device, f"{change.device}: {message}"))

        with self._lock:
            if new.status != old.status and new.status in FAULTS:
                self._faulty.add(change.device)
                detail = ", ".join(f"{k}={v}" for k, v in sorted(new.detail.items()) if v)
                add(new.status.value, FAULTS[new.status], f"{new.status.value} {detail}".strip())
            elif new.status in SERVING and change.device in self._faulty:
                self._faulty.discard(change.device)
                add("recovered", "info", f"{new.status.value} again")
        paper, was = new.detail.get("paper"), old.detail.get("paper")
        if paper != was and paper in PAPER:
            add(f"paper_{paper}", PAPER[paper], f"paper {paper.replace('_', ' ')}")
        elif paper == "ok" and was in PAPER:
            add("paper_ok", "info", "paper refilled")
        cover, was = new.detail.get("cover"), old.detail.get("cover")
        if cover == "open" and was != "open":
            add("cover_open", "warning", "cover open")
        elif cover == "closed" and was == "open":
            add("cover_closed", "info", "cover closed")
        return found
