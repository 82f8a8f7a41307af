"""Shared pieces of the PC/SC tests: a private pcscd with vpcd, a virtual card, waiting helpers."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from drivers.idcard.pcsc import PcscOptions, PcscReader
from drivers.sim.pcscd import PcscDaemon


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``predicate`` until true; a generous bound only so a broken driver cannot hang a test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class Events:
    """Collects card events and status changes from a reader."""

    def __init__(self, reader: PcscReader):
        self.cards, self.changes, self._lock = [], [], threading.Lock()
        reader.on_card(self._add(self.cards))
        reader.subscribe(self._add(self.changes))

    def _add(self, bucket):
        def add(item):
            with self._lock:
                bucket.append(item)
        return add


def make_reader(daemon: PcscDaemon, **options) -> PcscReader:
    defaults = dict(socket=daemon.socket_path, reader="00 00", poll_interval_s=0.1, card_timeout_s=4.0)
    return PcscReader("smartcard", PcscOptions(**{**defaults, **options}))


def no_card_on(daemon: PcscDaemon) -> None:
    """Wait until pcscd has seen the last test's card go: a card swapped faster than pcscd
    polls (about 0.4 s) looks to pcscd like one card that failed a transmit."""
    probe = make_reader(daemon)
    try:
        assert wait_for(lambda: probe.refresh().result(30).detail["card"] == "absent")
    finally:
        probe.close()
