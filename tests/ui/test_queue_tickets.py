"""Queue tickets by touch: a number for a window, printed on the ESC/POS simulator, called by the agent.

The staff badge's PC/SC path runs in tests/test_pcsc.py (libpcsclite takes one pcscd per
process, and this process's reader is left out): here the badge arrives as the app's
``_on_staff_badge`` call that the PC/SC reader's listener makes.
"""
from __future__ import annotations

from datetime import date, timedelta

from kiosk.opening_hours import parse
from screens.queue import WindowButton


def open_queue(ui):
    ui.tap((10, 10))  # wakes the terminal at home
    ui.tap(ui.app.screen.ids.queue)
    assert ui.screen == "queue"


def test_a_ticket_printed_then_called_by_the_agent(ui):
    queue = ui.app.terminal.queue
    waiting = queue.waiting()
    open_queue(ui)
    screen = ui.app.screen
    assert ui.find(text=f"当前等候人数：{waiting}")
    ui.wait(lambda: ui.app.terminal.ready_printer("receipt_printer") is not None, what="the receipt printer")
    before = len(ui.station.printer.documents)
    ui.tap(ui.find(WindowButton, "民政"))
    assert screen.state == "ticket"
    number = screen.ticket.number
    assert number.startswith("B") and screen.ticket.ahead == waiting
    assert number in screen.ids.number.text and "民政窗口" in screen.ids.details.text
    ui.wait(lambda: screen.print_state == "printed", what="the ticket printed")
    doc = ui.station.printer.wait_documents(before + 1)[before]
    text = "\n".join(doc.texts)
    assert number in text and "民政" in text and f"您前面还有 {waiting} 人等候" in text

    ui.tap(screen.ids.rate)  # the evaluation is offered, and can be skipped
    assert ui.screen == "evaluation" and ui.app.screen.case == ""
    ui.tap(ui.app.screen.ids.skip)
    assert ui.screen == "queue"

    ui.app._on_staff_badge("04A22B5C")  # the agent's badge on the reader
    ui.frames(3)
    assert ui.screen == "staff"
    staff = ui.app.screen
    for _ in range(waiting):  # earlier tests' tickets come first
        ui.tap(staff.ids.call_next)
    ui.tap(staff.ids.call_next)
    assert staff.current.number == number and staff.ids.current.text == f"请 {number} 号到民政窗口办理。"
    assert queue.waiting() == 0
    ui.tap(staff.ids.call_next)
    assert "目前没有人等候" in staff.ids.status.text
    ui.app._on_staff_badge(None)  # badge taken off: the agent's visit ends
    ui.frames(3)
    assert ui.screen == "attract" and not ui.app.terminal.session.active
    assert f"正在叫号：请 {number} 号到民政窗口办理。" in ui.app.screen.ids.called.text


def test_outside_opening_hours_says_when_the_window_opens(ui):
    terminal = ui.app.terminal
    later = date.today() + timedelta(days=2)
    terminal.opening_hours = parse(f"星期{'一二三四五六日'[later.weekday()]} 9:00—10:00")
    try:
        open_queue(ui)
        screen = ui.app.screen
        assert screen.state == "closed" and not ui.find_all(WindowButton)
        assert f"窗口现在不办公，将于{later.month}月{later.day}日 9:00开始办公" in ui.find(text="窗口现在不办公").text
    finally:
        del terminal.opening_hours  # back to the configured hours
