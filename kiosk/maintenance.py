"""The technicians' side of the terminal, without a screen: the hidden gesture's tap
counter, the PIN gate with its lock-out, device status in words, and the self-tests.

Self-tests return a ``Future`` of an ``Outcome`` and never raise: a device fault is
an outcome with the fault's message and next step. Progress callbacks run on the
device's worker thread.
"""
from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from drivers.base import DeviceError, DeviceState, Status
from drivers.idcard.identity import masked_id
from l10n import N_, Msg, translate

log = logging.getLogger(__name__)

STATUS_WORDS = {  # a symbol and words: colour is never the only signal
    Status.ONLINE: ("✓", N_("working")),
    Status.BUSY: ("…", N_("busy")),
    Status.OFFLINE: ("✕", N_("offline: not answering")),
    Status.HARDWARE_ERROR: ("!", N_("fault")),
    Status.NO_DEVICE: ("✕", N_("not found")),
}
KIND_NAMES = {
    "idcard": N_("ID card reader"), "smartcard": N_("smart card reader"),
    "receipt_printer": N_("receipt printer"), "a4_printer": N_("A4 printer"),
    "scanner": N_("scanner"), "camera": N_("document camera"),
}
DETAIL_WORDS = {  # (key, value) → words; "" hides an uninteresting value
    ("paper", "ok"): N_("paper OK"), ("paper", "near_end"): N_("paper running low"),
    ("paper", "out"): N_("paper out"), ("cover", "closed"): "", ("cover", "open"): N_("cover open"),
    ("card", "present"): N_("card on the reader"), ("card", "absent"): N_("no card"), ("card", "unknown"): "",
    ("reader", "present"): "", ("reader", "absent"): N_("reader not connected"),
    ("error", ""): "", ("error", "none"): "", ("accepting", "yes"): "",
    ("accepting", "no"): N_("not accepting jobs"), ("message", ""): "",
    ("queue_state", "idle"): "", ("queue_state", "processing"): N_("printing"),
    ("queue_state", "stopped"): N_("queue stopped"),
}
JOB_STATE_WORDS = {
    "pending": N_("waiting"), "held": N_("held"), "processing": N_("printing"), "stopped": N_("stopped"),
    "canceled": N_("cancelled"), "aborted": N_("aborted"), "completed": N_("completed"),
}


TROUBLE = {("paper", "out"), ("paper", "near_end"), ("cover", "open"), ("accepting", "no"),
           ("reader", "absent"), ("queue_state", "stopped")}


def needs_attention(state: DeviceState) -> bool:
    """Not serving, or serving with media trouble a person must see to (paper out)."""
    if state.status not in (Status.ONLINE, Status.BUSY):
        return True
    detail = state.detail
    return any(pair in TROUBLE for pair in detail.items()) or detail.get("error", "none") not in ("", "none")


def status_words(state: DeviceState, lang: str) -> str:
    symbol, msgid = STATUS_WORDS[state.status]
    return f"{symbol} {translate(msgid, lang)}"


def kind_words(kind: str, lang: str) -> str:
    return translate(KIND_NAMES[kind], lang) if kind in KIND_NAMES else kind


def detail_words(detail: Mapping[str, str], lang: str) -> str:
    """The media detail in words, e.g. "paper out"; unknown keys as "key: value"."""
    parts = []
    for key, value in detail.items():
        words = DETAIL_WORDS.get((key, value))
        if words is None:
            parts.append(f"{key}: {value}")
        elif words:
            parts.append(translate(words, lang))
    return ", ".join(parts)


class TapCounter:
    """``taps`` taps within ``window_s`` seconds make the gesture; ``tap()`` says when."""

    def __init__(self, taps: int = 5, window_s: float = 4.0, clock: Callable[[], float] = time.monotonic):
        self.taps, self.window_s, self.clock = taps, window_s, clock
        self._times: list[float] = []

    def tap(self) -> bool:
        now = self.clock()
        self._times = [t for t in self._times if now - t <= self.window_s] + [now]
        if len(self._times) >= self.taps:
            self._times = []
            return True
        return False

    def reset(self) -> None:
        self._times = []


@dataclass(frozen=True)
class PinCheck:
    """What a PIN entry got: ``"ok"``, ``"wrong"``, ``"locked_out"`` or ``"no_pin"``."""

    outcome: str
    tries_left: int = 0
    wait_s: float = 0.0  # how long the lock-out still lasts


class PinGate:
    """The maintenance PIN: ``max_tries`` wrong entries lock it for ``lockout_s`` seconds.

    An empty ``pin`` keeps maintenance locked on this terminal. ``clock`` is injectable
    so the lock-out can be tested without waiting.
    """

    def __init__(self, pin: str, max_tries: int = 5, lockout_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.pin, self.max_tries, self.lockout_s, self.clock = pin, max_tries, lockout_s, clock
        self._wrong = 0
        self._locked_until = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.pin)

    def locked_out_for(self) -> float:
        """Seconds of lock-out left; 0 when entries are accepted."""
        left = self._locked_until - self.clock()
        if left <= 0 and self._locked_until:
            self._locked_until, self._wrong = 0.0, 0
        return max(0.0, left)

    def check(self, entry: str) -> PinCheck:
        if not self.enabled:
            return PinCheck("no_pin")
        wait = self.locked_out_for()
        if wait:
            return PinCheck("locked_out", wait_s=wait)
        if hmac.compare_digest(entry.encode(), self.pin.encode()):
            self._wrong = 0
            log.info("maintenance: PIN accepted")
            return PinCheck("ok", self.max_tries)
        self._wrong += 1
        log.warning("maintenance: wrong PIN (%d of %d)", self._wrong, self.max_tries)
        if self._wrong >= self.max_tries:
            self._locked_until = self.clock() + self.lockout_s
            log.warning("maintenance: locked out for %.0f s", self.lockout_s)
            return PinCheck("locked_out", wait_s=self.lockout_s)
        return PinCheck("wrong", self.max_tries - self._wrong)


# -- self-tests --------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """A self-test's result or progress, shown in words; ``image`` is a scan's file."""

    ok: bool
    msgid: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    error: DeviceError | None = None
    image: str = ""

    def text(self, lang: str) -> str:
        if self.error is not None:
            return f"✕ {self.error.message(lang)} {self.error.hint(lang)}"
        words = translate(self.msgid, lang, **self.params)
        return f"✓ {words}" if self.ok else words


Progress = Callable[[Outcome], None]


def _device(terminal, *kinds: str):
    """The first configured device of the first kind that has one (serving or not)."""
    for kind in kinds:
        found = terminal.devices.of_kind(kind)
        if found:
            return found[0]
    return None


def _missing(kind: str) -> Future[Outcome]:
    return _done(Outcome(False, N_("No {device} is configured on this terminal."),
                         {"device": Msg(KIND_NAMES[kind])}))


def _done(outcome: Outcome) -> Future[Outcome]:
    future: Future[Outcome] = Future()
    future.set_result(outcome)
    return future


def _then(inner: Future, make: Callable[[Any], Outcome]) -> Future[Outcome]:
    """A Future of ``make(result)``; a failure becomes a failed Outcome."""
    outer: Future[Outcome] = Future()

    def finish(done: Future) -> None:
        try:
            outer.set_result(make(done.result()))
        except DeviceError as exc:
            outer.set_result(Outcome(False, error=exc))
        except Exception as exc:  # a bug: say so, keep the screen alive
            log.exception("self-test failed")
            outer.set_result(Outcome(False, N_("The test failed unexpectedly: {error}"), {"error": str(exc)}))

    inner.add_done_callback(finish)
    return outer


def _start(call: Callable[[], Future], make: Callable[[Any], Outcome]) -> Future[Outcome]:
    try:
        return _then(call(), make)
    except DeviceError as exc:
        return _done(Outcome(False, error=exc))


def print_receipt_test(terminal) -> Future[Outcome]:
    device = _device(terminal, "receipt_printer")
    if device is None:
        return _missing("receipt_printer")
    return _start(device.print_test_page, lambda r: Outcome(
        True, N_("Test receipt printed (job {job}, {size} bytes)."), {"job": r.job_id, "size": r.bytes_sent}))


def print_a4_test(terminal, progress: Progress | None = None) -> Future[Outcome]:
    device = _device(terminal, "a4_printer")
    if device is None:
        return _missing("a4_printer")

    def report(p) -> None:
        if progress is not None:
            progress(Outcome(False, N_("Print job {job}: {state}"),
                             {"job": p.job_id, "state": Msg(JOB_STATE_WORDS.get(p.state, p.state))}))

    return _start(lambda: device.print_test_page(report), lambda r: Outcome(
        True, N_("A4 test page printed (job {job} on {queue})."), {"job": r.job_id, "queue": r.queue}))


def read_id_card(terminal, timeout: float = 15.0) -> Future[Outcome]:
    """Read a card; the outcome shows the name and the masked ID number only."""
    device = _device(terminal, "idcard")
    if device is None:
        return _missing("idcard")
    return _start(lambda: device.read_identity(timeout), lambda identity: Outcome(
        True, N_("Card read: {name}, ID number {number}"),
        {"name": identity.name, "number": masked_id(identity.id_number)}))


def scan_page(terminal, out_dir: Path, progress: Progress | None = None) -> Future[Outcome]:
    """Scan to a new file in ``out_dir`` (older test scans there are removed)."""
    device = _device(terminal, "scanner", "camera")
    if device is None:
        return _missing("scanner")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("test-scan-*.png"):
        old.unlink(missing_ok=True)
    out = out_dir / f"test-scan-{datetime.now():%Y%m%d-%H%M%S}.png"

    def report(percent: float) -> None:
        if progress is not None:
            progress(Outcome(False, N_("Scanning: {percent}%"), {"percent": round(percent)}))

    return _start(lambda: device.scan(out, progress=report), lambda r: Outcome(
        True, N_("Scanned {width} × {height} pixels; saved to {path}"),
        {"width": r.width, "height": r.height, "path": str(r.path)}, image=str(r.path)))
