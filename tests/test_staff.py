"""Staff badges: only listed UIDs open the agent's screen; taking the badge off closes it.

The reader here is a stand-in that only replays CardEvents (the real PC/SC path is
tested in tests/test_pcsc.py::test_staff_badge_through_pcscd, with pcscd and vpcd).
"""
from __future__ import annotations

from drivers.idcard.pcsc import CardEvent
from kiosk.staff import StaffBadges


class Reader:
    kind = "smartcard"

    def __init__(self):
        self.listeners = []

    def on_card(self, callback):
        self.listeners.append(callback)

    def emit(self, event):
        for callback in self.listeners:
            callback(event)


class Printer:
    kind = "receipt_printer"


def test_only_listed_badges_count():
    reader, seen = Reader(), []
    StaffBadges(["04a22b5c"]).watch([Printer(), reader], seen.append)
    reader.emit(CardEvent("r", True, "3B", "DEADBEEF"))
    reader.emit(CardEvent("r", False))
    assert seen == []  # a stranger's card on and off
    reader.emit(CardEvent("r", True, "3B", "04A22B5C"))
    reader.emit(CardEvent("r", False))
    assert seen == ["04A22B5C", None]
    reader.emit(CardEvent("r", True, "3B", None))  # a contact card without a UID
    assert seen == ["04A22B5C", None]
