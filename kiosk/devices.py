"""The terminal's devices, built from the config: one place that owns and watches them.

The coordinator creates each configured device, starts its monitoring, and hands every
status change to its listeners; callers read ``states()``, never wait on a device.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from drivers.base import Device, DeviceState, Status, StatusChange
from kiosk.config import Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceRow:
    """One line of ``kiosk devices list``."""

    name: str
    kind: str
    driver: str
    state: DeviceState

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "driver": self.driver, **self.state.as_dict()}


class Devices:
    """All devices of one config. Use as a context manager; ``close`` stops them all."""

    def __init__(self, config: Config):
        self.config = config
        self._devices: dict[str, Device] = {name: dc.create() for name, dc in config.devices.items()}
        self._listeners: list[Callable[[StatusChange], None]] = []
        for device in self._devices.values():
            device.subscribe(self._on_change)
        self.probed = threading.Event()  # every device has had its first probe since start()
        self._unprobed = 0
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> Devices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Device]:
        return iter(self._devices.values())

    def __getitem__(self, name: str) -> Device:
        return self._devices[name]

    def of_kind(self, kind: str) -> list[Device]:
        return [d for d in self if d.kind == kind]

    def subscribe(self, callback: Callable[[StatusChange], None]) -> None:
        self._listeners.append(callback)

    def _on_change(self, change: StatusChange) -> None:
        for callback in list(self._listeners):
            callback(change)

    def start(self) -> None:
        """Begin monitoring every device (each probes once, on its own worker); ``probed`` is
        set when all those first probes have ended."""
        with self._lock:
            if self._closed:
                return
            for device in self:
                device.start()
            # a device's worker runs jobs in order: each marker ends after its device's first probe
            markers = [device.submit(lambda: None) for device in self]
            self._unprobed = len(markers)
        if not markers:
            self.probed.set()
        for marker in markers:
            marker.add_done_callback(self._first_probe_done)

    def _first_probe_done(self, _marker: object) -> None:
        with self._lock:
            self._unprobed -= 1
            if self._unprobed == 0:
                self.probed.set()

    def refresh_all(self, timeout: float = 10.0) -> list[DeviceRow]:
        """Probe every device at once; one that does not answer in time reads ``offline``."""
        futures = {device.name: device.refresh() for device in self}
        rows = []
        for name, future in futures.items():
            device = self._devices[name]
            try:
                state = future.result(timeout=timeout)
            except FutureTimeout:
                log.warning("%s: no answer within %.0f s", name, timeout)
                state = DeviceState(Status.OFFLINE, {"error": "probe timed out"})
            rows.append(DeviceRow(name, device.kind, self.config.devices[name].driver, state))
        return rows

    def rows(self) -> list[DeviceRow]:
        return [DeviceRow(d.name, d.kind, self.config.devices[d.name].driver, d.state) for d in self]

    def close(self) -> None:
        with self._lock:
            self._closed = True
        for device in self:
            try:
                device.close()
            except Exception:
                log.exception("closing %s failed", device.name)
        self.probed.set()  # no probe is coming any more
