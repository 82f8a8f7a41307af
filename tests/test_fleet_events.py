"""Which device status changes become fleet events."""
from __future__ import annotations

from drivers.base import DeviceState, Status, StatusChange
from kiosk.fleet_events import DeviceEvents, family


def change(old: DeviceState, new: DeviceState, kind="receipt_printer", device="receipt") -> StatusChange:
    return StatusChange(device, kind, old, new)


def types(events) -> list[tuple[str, str]]:
    return [(e.type, e.severity) for e in events]


START = DeviceState(Status.OFFLINE)
OK = DeviceState(Status.ONLINE, {"paper": "ok", "cover": "closed"})


def test_the_first_probe_is_no_recovery_and_a_fault_and_its_end_are():
    events = DeviceEvents()
    assert events.events(change(START, OK)) == []
    jam = DeviceState(Status.HARDWARE_ERROR, {"paper": "ok", "cover": "closed", "error": "cutter"})
    fault = events.events(change(OK, jam))
    assert types(fault) == [("printer.hardware_error", "critical")] and "error=cutter" in fault[0].message
    assert fault[0].device == "receipt"
    assert types(events.events(change(jam, OK))) == [("printer.recovered", "info")]
    assert events.events(change(OK, OK)) == []


def test_offline_is_a_warning_of_the_device_kind():
    events = DeviceEvents()
    reader = DeviceState(Status.ONLINE, {"card": "absent"})
    gone = DeviceState(Status.OFFLINE, {"card": "absent"})
    assert types(events.events(change(reader, gone, "idcard", "idcard"))) == [("idcard.offline", "warning")]
    assert types(events.events(change(gone, reader, "idcard", "idcard"))) == [("idcard.recovered", "info")]


def test_paper_and_cover():
    events = DeviceEvents()
    near = DeviceState(Status.ONLINE, {"paper": "near_end", "cover": "closed"})
    out = DeviceState(Status.ONLINE, {"paper": "out", "cover": "open"})
    assert types(events.events(change(OK, near))) == [("printer.paper_near_end", "warning")]
    assert types(events.events(change(near, out))) == [("printer.paper_out", "critical"), ("printer.cover_open", "warning")]
    assert types(events.events(change(out, OK))) == [("printer.paper_ok", "info"), ("printer.cover_closed", "info")]


def test_every_kind_makes_a_valid_event_type():
    from fleet.protocol import EVENT_TYPE
    for kind in ("a4_printer", "Scanner-2", "", "摄像头"):
        assert EVENT_TYPE.fullmatch(f"{family(kind)}.offline")
