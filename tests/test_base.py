"""The device model: states, change events, errors, and I/O off the caller's thread."""
from __future__ import annotations

import threading

from drivers.base import Device, DeviceError, DeviceState, MediaError, Recovery, Status


class Lamp(Device):
    """A device whose probe reports whatever the test sets (no hardware involved)."""

    kind = "lamp"

    def __init__(self):
        super().__init__("lamp")
        self.next = (Status.ONLINE, {})
        self.probe_thread = None

    def probe(self):
        self.probe_thread = threading.current_thread()
        status, detail = self.next
        self._set_state(status, **detail)


def test_change_events_name_what_changed():
    lamp, seen = Lamp(), []
    lamp.subscribe(seen.append)
    lamp.next = (Status.ONLINE, {"paper": "ok", "cover": "closed"})
    lamp.refresh().result(timeout=5)
    lamp.next = (Status.ONLINE, {"paper": "near_end"})
    lamp.refresh().result(timeout=5)
    lamp.refresh().result(timeout=5)  # nothing new: no event
    assert [sorted(c.changed) for c in seen] == [["cover", "paper", "status"], ["paper"]]
    assert seen[-1].new == DeviceState(Status.ONLINE, {"paper": "near_end", "cover": "closed"})
    assert seen[-1].old.detail["paper"] == "ok"
    lamp.close()


def test_io_runs_on_the_device_worker_not_the_caller():
    lamp = Lamp()
    lamp.refresh().result(timeout=5)
    assert lamp.probe_thread is not threading.current_thread()
    assert lamp.probe_thread.name.startswith("dev-lamp")
    lamp.close()


def test_a_failing_listener_does_not_stop_the_others():
    lamp, seen = Lamp(), []
    lamp.subscribe(lambda change: 1 / 0)
    lamp.subscribe(seen.append)
    lamp.refresh().result(timeout=5)
    assert len(seen) == 1 and lamp.state.status is Status.ONLINE
    lamp.close()


def test_unsubscribe():
    lamp, seen = Lamp(), []
    unsubscribe = lamp.subscribe(seen.append)
    unsubscribe()
    lamp.refresh().result(timeout=5)
    assert seen == []
    lamp.close()


def test_errors_carry_code_recovery_and_both_languages():
    err = MediaError("printer.paper_out", "The receipt printer is out of paper.")
    assert err.code == "printer.paper_out" and err.recovery is Recovery.STAFF
    assert str(err) == "The receipt printer is out of paper."
    assert err.hint("zh_CN") == "请联系工作人员协助。" and err.hint("en") == "Please ask the station staff for help."
    assert DeviceError("x.y", "{n} pages", n=3, recovery=Recovery.RETRY).message("en") == "3 pages"
