"""The visit: idle countdown, more time, the privacy wipe; card removal asks the same."""
from __future__ import annotations

import gc

from drivers.sim.samv_reader import DEMO_IDENTITIES


class FakeClock:
    """The session's clock, moved by the test (time injected, nothing else replaced)."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def start_visit(ui, clock):
    ui.app.terminal.session.clock = clock
    ui.tap((ui.app.root.width / 2, ui.app.root.height / 2))
    assert ui.screen == "home" and ui.app.terminal.session.active


def test_idle_countdown_offers_more_time_with_one_tap(ui):
    clock = FakeClock()
    start_visit(ui, clock)
    clock.now += 61
    ui.wait(lambda: ui.app.idle.parent is not None, what="the still-there question")
    assert ui.find(text="您还在吗", root=ui.app.idle)
    assert int(ui.app.idle.ids.countdown.text) in range(1, 21)
    ui.tap(ui.app.idle.ids.more)
    ui.wait(lambda: ui.app.idle.parent is None, what="the question to close")
    assert ui.screen == "home" and ui.app.terminal.session.active


def test_no_answer_wipes_the_visit_and_returns_to_attract(ui):
    clock = FakeClock()
    start_visit(ui, clock)
    visit = ui.app.terminal.session.visit
    visit.identity = DEMO_IDENTITIES[1]
    scan, folder = visit.scan_path(), visit.dir
    scan.write_bytes(b"scan of a household register")
    assert _reachable_text(ui.app, DEMO_IDENTITIES[1].id_number)  # the check sees a live visit
    ui.app.style.large = True
    ui.tap(ui.find(text="组织运作"))
    ui.tap(ui.find(text="新闻"))
    clock.now += 61
    ui.wait(lambda: ui.app.idle.parent is not None, what="the still-there question")
    clock.now += 21
    ui.wait(lambda: ui.screen == "attract", what="the attract screen")
    assert ui.app.idle.parent is None and not ui.app.terminal.session.active
    assert not scan.exists() and not folder.exists()
    assert ui.app.history == [] and not ui.app.style.large
    assert all(not screen.activation for screen in ui.app.manager.screens)
    del visit
    gc.collect()
    assert not _reachable_text(ui.app, DEMO_IDENTITIES[1].id_number)
    assert not _reachable_text(ui.app, DEMO_IDENTITIES[1].name)


def test_taking_the_card_out_asks_the_same_question(ui):
    clock = FakeClock()
    start_visit(ui, clock)
    ui.station.samv.insert()
    reader = ui.app.terminal.devices["idcard"]
    ui.wait(lambda: reader.state.detail.get("card") == "present", what="the card")
    ui.station.samv.remove()
    ui.wait(lambda: ui.app.idle.parent is not None, what="the question after card removal")
    assert ui.find(text="身份证已取出", root=ui.app.idle)
    ui.tap(ui.app.idle.ids.end)
    ui.wait(lambda: ui.screen == "attract")
    ui.station.samv.insert()


def _reachable_text(app, needle: str) -> bool:
    """Whether ``needle`` is in any string reachable from the app's and screens' attributes."""
    seen, stack = set(), [app, *app.manager.screens]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            if needle in obj:
                return True
        elif isinstance(obj, dict):
            stack += list(obj.keys()) + list(obj.values())
        elif isinstance(obj, (list, tuple, set)):
            stack += list(obj)
        elif hasattr(obj, "__dict__") and type(obj).__module__.startswith(("screens", "kiosk", "drivers")):
            stack += list(vars(obj).values())
    return False
