"""Appointments (预约) by touch, against the session's upstream sandbox.

A window time: the platform's free slots are listed, one is booked, and the booking
reaches the platform through the outbox. With the platform away (the sandbox stopped):
the screen says times cannot be booked and offers a home visit; the home visit (the
name and address from the ID card on the simulated reader, the phone typed) is kept at
the terminal and delivered once the platform is back.
"""
from __future__ import annotations

from _platform import records, tap_shown, type_on_keypad, within
from drivers.sim.samv_reader import DEMO_IDENTITIES
from screens.appointment import ChoiceButton

PERSON = DEMO_IDENTITIES[0]  # the card on the simulated reader
PHONE = "13712345678"


def booking_no(ui, ref: str) -> str:
    row = ui.app.terminal.cases.store.row("SELECT booking_no FROM appointments WHERE ref = ?", (ref,))
    return row["booking_no"] or ""


def open_appointment(ui):
    ui.tap((10, 10))  # wakes the terminal at home
    ui.tap(ui.app.screen.ids.appointment)
    assert ui.screen == "appointment"
    return ui.app.screen


def choose_window(ui, screen, window: str = "民政") -> None:
    tap_shown(ui, screen.ids.window_slot)
    assert screen.step == "window"
    tap_shown(ui, ui.find(ChoiceButton, f"{window}窗口"))


def test_a_window_time_is_booked_on_the_platform(ui):
    before = len(records(ui, "booking"))
    screen = open_appointment(ui)
    choose_window(ui, screen)
    ui.wait(lambda: screen.step != "sending", timeout=30, what="the free times")
    assert screen.step == "slots"
    times = ui.find_all(ChoiceButton)
    assert times and all(b.value["free"] > 0 and b.value["window"] == "民政" for b in times)
    slot = times[0].value
    tap_shown(ui, times[0])
    ui.wait(lambda: screen.step != "sending", timeout=20, what="the booking kept")
    assert screen.step == "booked" and screen.ref in screen.ids.note.text
    number = within(lambda: booking_no(ui, screen.ref), 30, "the booking delivered")
    record = records(ui, "booking")[before:][-1]
    assert record["no"] == number and record["kind"] == "window" and record["slot"]["slot_id"] == slot["slot_id"]


def test_offline_a_home_visit_is_kept_and_delivered_when_the_platform_is_back(ui):
    sandbox = ui.sandbox
    before = len(records(ui, "booking"))
    sandbox.stop()
    try:
        screen = open_appointment(ui)
        choose_window(ui, screen)
        ui.wait(lambda: screen.step != "sending", timeout=30, what="the platform asked")
        assert screen.step == "offline" and "暂时连不上政务服务平台，无法预约时间" in screen.ids.note.text
        tap_shown(ui, screen.ids.offline_home)
        ui.wait(lambda: screen.step != "card", timeout=40, what="the ID card read")
        assert screen.step == "phone"
        assert PERSON.name in screen.ids.note.text and PERSON.address in screen.ids.note.text
        type_on_keypad(ui, screen.ids.phone, PHONE, tap=lambda widget: tap_shown(ui, widget))
        assert screen.step == "purpose"
        tap_shown(ui, ui.find(ChoiceButton, "民政窗口"))
        ui.wait(lambda: screen.step != "sending", timeout=20, what="the request kept")
        assert screen.step == "booked"
        ref = screen.ref
        assert not booking_no(ui, ref)  # kept at the terminal, waiting for the platform
    finally:
        sandbox.start()
    number = within(lambda: booking_no(ui, ref), 90, "the home visit delivered after the outage")
    record = records(ui, "booking")[before:][-1]
    assert record["no"] == number and record["kind"] == "home_visit"
    assert (record["name"], record["address"], record["phone"], record["window"]) == (
        PERSON.name, PERSON.address, PHONE, "民政")
