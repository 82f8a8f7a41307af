"""Shared by the UI tests of My cases, evaluation and appointments: waiting on the outbox,
reading what the session's upstream sandbox stored, touching inside a scrolled page, typing
on a keypad."""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing

from kivy.uix.scrollview import ScrollView

from screens.widgets import BigButton


def within(predicate, timeout: float, what: str):
    """``predicate()``'s first true value, polled while the outbox works in its own thread."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def records(ui, kind: str) -> list[dict]:
    """What the sandbox has stored of ``kind`` ("evaluation", "complaint", "booking"), oldest
    first: the platform's side of the wire, read from its own database."""
    with closing(sqlite3.connect(ui.sandbox.db)) as db:
        rows = db.execute("SELECT no, body FROM records WHERE kind = ? ORDER BY at", (kind,)).fetchall()
    return [{"no": no, **json.loads(body)} for no, body in rows]


def type_on_keypad(ui, keypad, digits: str, tap=None) -> None:
    """Clear, the digits, OK: each a touch on ``keypad``'s keys (``tap``: how to touch, ``ui.tap`` by default)."""
    tap = tap or ui.tap
    tap(keypad.ids["clear"])
    for digit in digits:
        tap(next(w for w in ui.find_all(BigButton, root=keypad) if w.text == digit))
    tap(keypad.ids.ok)


def tap_shown(ui, widget) -> None:
    """Scroll ``widget``'s page to it (as a finger's swipe would) and tap it as a finger does: held
    until the page has handed the touch to it (Kivy's ScrollView waits ``scroll_timeout`` to tell
    a tap from a swipe), then released. A quicker release would take the ScrollView's other path,
    which hands on the press and, 0.2 s later, the release: a key that moved meanwhile misses it."""
    from kivy.tests.common import UnitTestTouch
    scroll = widget.parent
    while not isinstance(scroll, ScrollView):
        scroll = scroll.parent
    scroll.scroll_to(widget, padding=0, animate=False)
    ui.settle()
    assert _in_view(scroll, widget), f"the page does not show the widget: {_scene(ui, scroll, widget, None)}"
    at = widget.to_window(*widget.center)
    touch = UnitTestTouch(*at)
    touch.touch_down()
    try:  # the button is pressed
        ui.wait(lambda: widget.state == "down", what="the page to hand the touch on")
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}: {_scene(ui, scroll, widget, at)}") from None
    finally:
        touch.touch_up()
    ui.frames(3)


def _scene(ui, scroll, widget, at) -> str:
    """What a failed tap met: the screen, what lies over it, the widget, the page, the touch."""
    from kivy.core.window import Window
    over = [type(w).__name__ for w in Window.children if w is not ui.app.root]
    scene = (f"screen {ui.screen!r}, over it {over}, {type(widget).__name__} {getattr(widget, 'text', '')!r} "
             f"disabled={widget.disabled} opacity={widget.opacity} state={widget.state} "
             f"at {widget.to_window(*widget.center)}, page scroll_y={scroll.scroll_y:.4f} of a "
             f"{scroll._viewport.height:.0f} px body in {scroll.height:.0f} px, the page holds the touch: {bool(scroll._touch)}")
    if at is None:
        return scene
    under = [type(w).__name__ for w in ui.app.root.walk(restrict=True) if w.collide_point(*w.to_widget(*at))]
    return f"{scene}; touched at {at}, on {under[-4:]}"


def _in_view(scroll, widget) -> bool:
    """Whether ``widget``'s centre, where a tap lands, is inside ``scroll``'s visible area."""
    x, y = widget.to_window(*widget.center)
    left, bottom = scroll.to_window(scroll.x, scroll.y)
    return left <= x <= left + scroll.width and bottom <= y <= bottom + scroll.height
