"""One device model for every kind of hardware, after CEN/XFS and UnifiedPOS.

A device has a status from one vocabulary (``Status``) plus its kind's media detail
(a printer's ``paper`` and ``cover``), tells listeners what changed, and raises
``DeviceError`` with a code, a recovery hint and a translatable message.

Device I/O runs on the device's own worker thread: public I/O methods return a
``concurrent.futures.Future`` and never block the caller, and every wait on the
hardware has a timeout.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from l10n import N_, translate

log = logging.getLogger(__name__)
T = TypeVar("T")


class Status(str, Enum):
    """The common status vocabulary (fleet protocol ``status`` values)."""

    ONLINE = "online"
    BUSY = "busy"
    OFFLINE = "offline"  # configured but not answering
    HARDWARE_ERROR = "hardware_error"
    NO_DEVICE = "no_device"  # not configured, or not present at all


@dataclass(frozen=True)
class DeviceState:
    """A device's status and its kind's media detail, e.g. ``{"paper": "ok"}``."""

    status: Status
    detail: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", MappingProxyType(dict(self.detail)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeviceState):
            return NotImplemented
        return self.status == other.status and dict(self.detail) == dict(other.detail)

    def __hash__(self) -> int:
        return hash((self.status, tuple(sorted(self.detail.items()))))

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "detail": dict(self.detail)}


@dataclass(frozen=True)
class StatusChange:
    """What a status-change callback receives: the device, its state before and after."""

    device: str
    kind: str
    old: DeviceState
    new: DeviceState

    @property
    def changed(self) -> frozenset[str]:
        """Names of what changed: ``"status"`` and/or detail keys such as ``"paper"``."""
        keys = set(self.old.detail) | set(self.new.detail)
        names = {k for k in keys if self.old.detail.get(k) != self.new.detail.get(k)}
        if self.old.status != self.new.status:
            names.add("status")
        return frozenset(names)


class Recovery(str, Enum):
    """Who can put a fault right."""

    RETRY = "retry"  # try again: the user or the driver itself
    STAFF = "staff"  # station staff can fix it: paper, cover, a card the wrong way
    TECHNICIAN = "technician"  # needs a technician


class DeviceError(Exception):
    """A fault a person can meet, with a stable code and a message in every language.

    ``msgid`` is an English gettext message id with ``{name}`` placeholders filled
    from ``params``.
    """

    recovery: ClassVar[Recovery] = Recovery.TECHNICIAN

    def __init__(self, code: str, msgid: str, *, recovery: Recovery | None = None, **params: Any):
        self.code = code
        self.msgid = msgid
        self.params = params
        if recovery is not None:
            self.recovery = recovery
        super().__init__(self.message("en"))

    def message(self, language: str = "zh_CN") -> str:
        return translate(self.msgid, language, **self.params)

    def hint(self, language: str = "zh_CN") -> str:
        """The next step for whoever stands at the terminal."""
        return translate(_HINTS[self.recovery], language)


_HINTS = {
    Recovery.RETRY: N_("Please try again."),
    Recovery.STAFF: N_("Please ask the station staff for help."),
    Recovery.TECHNICIAN: N_("Please call a technician."),
}


class DeviceTimeout(DeviceError):
    """Nothing came back in time (no card presented, no answer from the device)."""

    recovery = Recovery.RETRY


class ProtocolError(DeviceError):
    """Bytes from the device made no sense: garbage, a bad checksum, a short frame."""

    recovery = Recovery.RETRY


class MediaError(DeviceError):
    """Media needs a person: paper out, cover open, a card pulled out mid-read."""

    recovery = Recovery.STAFF


class DeviceUnavailable(DeviceError):
    """The device is offline, unplugged or its daemon is not running."""

    recovery = Recovery.TECHNICIAN


@dataclass(frozen=True)
class Options:
    """Base of every driver's config options; each field is one config key."""


class Device:
    """Base of every driver: state, listeners, and a worker thread for its I/O.

    A subclass sets ``kind`` and ``Options`` and implements ``probe`` (find the
    current state by talking to the hardware). ``start`` begins background
    monitoring where the driver has any (``_start_monitor``, often with the loop
    ``_submit_every``); ``close`` stops it and the worker, then calls ``_release``.
    """

    kind: ClassVar[str] = "device"
    Options: ClassVar[type[Options]] = Options

    def __init__(self, name: str, options: Options | None = None):
        self.name = name
        self.options = options if options is not None else self.Options()
        self._state = DeviceState(Status.OFFLINE)
        self._listeners: list[Callable[[StatusChange], None]] = []
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"dev-{name}")
        self._closing = threading.Event()  # set by close(): monitors and long waits end
        self._monitor: threading.Thread | None = None
        self._monitor_join_s = 0.0

    # -- state ---------------------------------------------------------------
    @property
    def state(self) -> DeviceState:
        return self._state

    def subscribe(self, callback: Callable[[StatusChange], None]) -> Callable[[], None]:
        """Call ``callback(StatusChange)`` on every change; returns the unsubscriber."""
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def _set_state(self, status: Status, **detail: str) -> None:
        """Record a new state (detail keys not given keep their value) and notify."""
        with self._lock:
            old = self._state
            merged = {**old.detail, **detail}
            new = DeviceState(status, merged)
            if new == old:
                return
            self._state = new
            listeners = list(self._listeners)
        change = StatusChange(self.name, self.kind, old, new)
        log.info("%s: %s -> %s", self.name, old.as_dict(), new.as_dict())
        for callback in listeners:
            try:
                callback(change)
            except Exception:  # a listener's bug must not break the device
                log.exception("status listener failed for %s", self.name)

    # -- I/O -------------------------------------------------------------------
    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` on this device's worker thread; I/O is serialised per device."""
        return self._worker.submit(fn, *args, **kwargs)

    def refresh(self) -> Future[DeviceState]:
        """Probe the hardware now and return the state found."""
        return self.submit(self._refresh)

    def _refresh(self) -> DeviceState:
        try:
            self.probe()
        except DeviceError as exc:
            log.warning("%s: probe failed: %s", self.name, exc)
        return self._state

    def probe(self) -> None:
        """Talk to the hardware and ``_set_state`` what was found. Runs on the worker."""
        raise NotImplementedError

    def check_environment(self) -> list[DeviceError]:
        """Problems a technician can act on: daemon not running, no permission on the port."""
        return []

    def start(self) -> None:
        """Begin background monitoring, where the driver has any; probe once."""
        self.refresh()

    def close(self) -> None:
        """Stop the monitor, drop queued I/O, let running I/O end (it has timeouts), release."""
        self._closing.set()
        if self._monitor is not None:
            self._monitor.join(self._monitor_join_s)
            if self._monitor.is_alive():
                log.warning("%s: monitor still running %.1f s after close", self.name, self._monitor_join_s)
        self._worker.shutdown(wait=True, cancel_futures=True)
        self._release()

    # -- background monitoring ---------------------------------------------------
    def _start_monitor(self, loop: Callable[[], None], join_timeout: float = 2.0) -> None:
        """Run ``loop`` on a daemon thread, once; it must return soon after ``_closing`` is set.

        ``close`` waits at most ``join_timeout`` seconds for it.
        """
        if self._monitor is None and not self._closing.is_set():
            self._monitor_join_s = join_timeout
            self._monitor = threading.Thread(target=loop, name=f"mon-{self.name}", daemon=True)
            self._monitor.start()

    def _submit_every(self, interval: float, fn: Callable[[], Any]) -> None:
        """A monitor loop: ``submit(fn)`` every ``interval`` s until close. A round is skipped
        while the previous one has not run yet (the worker is busy with a job), so rounds
        never pile up; the loop itself never waits on the worker."""
        last: Future[Any] | None = None
        while not self._closing.wait(interval):
            if last is not None and not last.done():
                continue
            try:
                last = self.submit(fn)
            except RuntimeError:  # the worker has shut down
                return
            last.add_done_callback(self._log_unexpected)

    def _log_unexpected(self, done: Future[Any]) -> None:
        """Log a background round that failed with something other than a DeviceError (a bug)."""
        exc = None if done.cancelled() else done.exception()
        if exc is not None and not isinstance(exc, DeviceError):
            log.error("%s: background round failed", self.name, exc_info=exc)

    def _release(self) -> None:
        """Free what the driver holds (a port, a connection); runs in ``close`` after the worker."""

