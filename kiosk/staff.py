"""The village agents' staff badges on the terminal's PC/SC reader.

A badge whose UID is listed in ``[queue] staff_cards`` opens the agent's screen; taking
it off closes it. Other cards are ignored (and logged without their UID).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)
SMARTCARD = "smartcard"  # drivers.idcard.pcsc.PcscReader.kind


class StaffBadges:
    """``watch(devices, callback)``: ``callback(uid)`` for a staff badge put on, ``callback(None)`` off."""

    def __init__(self, allowed: Iterable[str]):
        self.allowed = frozenset(uid.upper() for uid in allowed)
        self._present: str | None = None

    def is_staff(self, uid: str | None) -> bool:
        return uid is not None and uid.upper() in self.allowed

    def watch(self, devices: Iterable, callback: Callable[[str | None], None]) -> None:
        """Listen on every PC/SC reader among ``devices`` (callbacks run on the reader's thread)."""
        for device in devices:
            if device.kind == SMARTCARD:
                device.on_card(lambda event: self._on_card(event, callback))

    def _on_card(self, event, callback: Callable[[str | None], None]) -> None:
        if event.inserted:
            if self.is_staff(event.uid):
                self._present = event.uid.upper()
                log.info("staff badge on the reader")
                callback(self._present)
            else:
                log.info("a card that is not a staff badge was put on the reader")
        elif self._present is not None:
            self._present = None
            callback(None)
