"""One visit at the terminal: what it holds, when it times out, and how it is wiped.

A ``Session`` starts a ``Visit`` at the first touch and ends it with a privacy wipe:
identity, form data, images and scans (files in a private 0700 directory) are dropped,
the files overwritten before they are deleted. An ``IdleTimer`` (pure logic, the time
is passed in) turns inactivity into a "still there?" warning with a countdown that one
tap extends; pulling the ID card out during a visit asks the same question.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from drivers.base import StatusChange
from drivers.idcard.identity import Identity
from l10n import N_

log = logging.getLogger(__name__)


class Phase(str, Enum):
    ACTIVE = "active"
    WARNING = "warning"  # "still there?" with a countdown
    EXPIRED = "expired"


class EndReason(str, Enum):
    IDLE = "idle"
    CARD_REMOVED = "card_removed"
    FINISHED = "finished"
    OUT_OF_SERVICE = "out_of_service"


# what the warning asks, by what caused it
PROMPTS = {
    EndReason.IDLE: N_("Are you still there?"),
    EndReason.CARD_REMOVED: N_("Your ID card was taken out. Are you still there?"),
}
COUNTDOWN = N_("This visit ends in {seconds} seconds to protect your data.")
EXTEND = N_("Tap here for more time")


@dataclass(frozen=True)
class IdleState:
    """``seconds_left``: until the warning when active, until expiry when warning."""

    phase: Phase
    seconds_left: float


class IdleTimer:
    """Idle timeout → warning countdown → expired. ``touch``/``extend`` restart it."""

    def __init__(self, now: float, idle_timeout: float = 60.0, warning: float = 20.0):
        if idle_timeout <= 0 or warning <= 0:
            raise ValueError("idle_timeout and warning must be positive")
        self.idle_timeout = idle_timeout
        self.warning = warning
        self._last = now  # latest time seen; a clock going back counts as no time passing
        self._active_until = now + idle_timeout
        self._expires_at = self._active_until + warning
        self._expired = False

    def _see(self, now: float) -> float:
        self._last = max(self._last, now)
        return self._last

    def touch(self, now: float) -> None:
        """Any user input: back to active with the full idle time (not once expired)."""
        now = self._see(now)
        if self.tick(now).phase != Phase.EXPIRED:
            self._active_until = now + self.idle_timeout
            self._expires_at = self._active_until + self.warning

    def extend(self, now: float) -> None:
        """The one tap on "more time"."""
        self.touch(now)

    def warn(self, now: float) -> None:
        """Enter the warning phase now (the card was taken out)."""
        now = self._see(now)
        if self.tick(now).phase == Phase.ACTIVE:
            self._active_until = now
            self._expires_at = now + self.warning

    def tick(self, now: float) -> IdleState:
        now = self._see(now)
        if self._expired or now >= self._expires_at:
            self._expired = True
            return IdleState(Phase.EXPIRED, 0.0)
        if now >= self._active_until:
            return IdleState(Phase.WARNING, min(self.warning, self._expires_at - now))
        return IdleState(Phase.ACTIVE, min(self.idle_timeout, self._active_until - now))


def _shred(path: Path) -> None:
    """Overwrite a regular file with zeros, flush it to disk, delete it."""
    try:
        size = path.stat().st_size
        with open(path, "r+b", buffering=0) as f:
            block = bytes(min(size, 1 << 20))
            left = size
            while left > 0:
                left -= f.write(block[:left])
            os.fsync(f.fileno())
    except OSError as exc:
        log.warning("could not overwrite %s: %s", path.name, exc)
    path.unlink(missing_ok=True)


class Visit:
    """What one person left at the terminal: identity, form data, scans, images."""

    def __init__(self, started_at: float, temp_root: Path | None = None):
        self.started_at = started_at
        self.identity: Identity | None = None
        self.form: dict[str, Any] = {}
        self.images: list[bytes | bytearray] = []
        self.scans: list[Path] = []
        self.dir: Path | None = Path(tempfile.mkdtemp(prefix="visit-", dir=temp_root))
        os.chmod(self.dir, 0o700)

    def scan_path(self, suffix: str = ".png") -> Path:
        """A new file name for a scan, inside the visit's private directory."""
        if self.dir is None:
            raise RuntimeError("the visit is over")
        fd, name = tempfile.mkstemp(suffix=suffix, prefix="scan-", dir=self.dir)
        os.close(fd)
        path = Path(name)
        self.scans.append(path)
        return path

    def wipe(self) -> None:
        """Forget everything: overwrite and delete the files, zero what can be zeroed."""
        self.identity = None
        for image in self.images:
            if isinstance(image, bytearray):
                image[:] = bytes(len(image))
        self.images.clear()
        self.form.clear()
        self.scans.clear()
        if self.dir is not None:
            for root, _, files in os.walk(self.dir):
                for name in files:
                    path = Path(root, name)
                    if path.is_file() and not path.is_symlink():
                        _shred(path)
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


@dataclass(frozen=True)
class SessionEvent:
    kind: str  # "started" | "ended"
    reason: EndReason | None = None


class Session:
    """The visit controller. The app calls ``touch`` on input and ``tick`` from a clock."""

    def __init__(self, idle_timeout: float = 60.0, warning: float = 20.0,
                 clock: Callable[[], float] = time.monotonic, temp_root: Path | None = None):
        self.idle_timeout = idle_timeout
        self.warning = warning
        self.clock = clock
        self.temp_root = temp_root
        self.visit: Visit | None = None
        self.timer: IdleTimer | None = None
        self.warning_cause: EndReason | None = None
        self._listeners: list[Callable[[SessionEvent], None]] = []

    @property
    def active(self) -> bool:
        return self.visit is not None

    def subscribe(self, callback: Callable[[SessionEvent], None]) -> Callable[[], None]:
        """Call ``callback(SessionEvent)`` when a visit starts or ends; returns the unsubscriber."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _notify(self, event: SessionEvent) -> None:
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:
                log.exception("session listener failed")

    def start(self) -> Visit:
        """Begin a visit (the first touch); the running one if there is one."""
        if self.visit is None:
            now = self.clock()
            self.visit = Visit(now, self.temp_root)
            self.timer = IdleTimer(now, self.idle_timeout, self.warning)
            self.warning_cause = None
            log.info("visit started")
            self._notify(SessionEvent("started"))
        return self.visit

    def touch(self) -> None:
        """Any user input: starts a visit or keeps it alive."""
        if self.visit is None:
            self.start()
        else:
            now = self.clock()
            self.timer.touch(now)
            if self.timer.tick(now).phase == Phase.ACTIVE:
                self.warning_cause = None

    def extend(self) -> None:
        """The "more time" tap of the warning."""
        self.touch()

    def tick(self) -> IdleState | None:
        """The idle state now (None without a visit); ends the visit when it expired."""
        if self.visit is None:
            return None
        state = self.timer.tick(self.clock())
        if state.phase == Phase.EXPIRED:
            self.end(self.warning_cause or EndReason.IDLE)
        return state

    def prompt(self) -> str:
        """The msgid of the question the warning asks."""
        return PROMPTS[self.warning_cause or EndReason.IDLE]

    def on_device_change(self, change: StatusChange) -> None:
        """Subscribe this to the ID-card reader: taking the card out asks "still there?"."""
        if (self.visit is not None and change.kind == "idcard"
                and change.old.detail.get("card") == "present" and change.new.detail.get("card") == "absent"):
            log.info("ID card taken out during the visit")
            self.timer.warn(self.clock())
            self.warning_cause = EndReason.CARD_REMOVED

    def end(self, reason: EndReason) -> None:
        """Wipe the visit and tell the listeners (nothing happens without a visit)."""
        visit, self.visit, self.timer, self.warning_cause = self.visit, None, None, None
        if visit is None:
            return
        seconds = self.clock() - visit.started_at
        visit.wipe()
        log.info("visit ended (%s) after %.0f s", reason.value, seconds)
        self._notify(SessionEvent("ended", EndReason(reason)))
