"""The technicians' screen: PIN first, then live device status, self-tests and the last log lines.

``MaintenanceAccess(app)`` installs the hidden way in (five taps within four seconds on
the top-left corner, on every screen; a citizen's visit in progress is ended and wiped
first) and, unless ``[maintenance] allow_exit`` is true, closes every way out of the app
(Escape, the window's close request, F1 settings).
"""
from __future__ import annotations

import tempfile
from math import ceil
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout

from kiosk import maintenance as mt
from kiosk.session import EndReason
from l10n import N_
from screens.base import BaseScreen
from screens.widgets.keypad import Keypad

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

CORNER_MM = 20  # the side of the top-left square the gesture is tapped in
LOG_LINES = 50
KEY_ESCAPE, KEY_F1 = 27, 282
SCAN_DIR = Path(tempfile.gettempdir()) / "kiosk-maintenance"

# test id → (button words, words while it runs, what starts it)
TESTS = {
    "receipt": (N_("Print a receipt test page"), N_("Printing…"),
                lambda terminal, progress: mt.print_receipt_test(terminal)),
    "a4": (N_("Print an A4 test page"), N_("Sending the page to the printer…"),
           lambda terminal, progress: mt.print_a4_test(terminal, progress)),
    "idcard": (N_("Read an ID card"), N_("Place an ID card on the reader…"),
               lambda terminal, progress: mt.read_id_card(terminal)),
    "scan": (N_("Scan a page"), N_("Scanning…"),
             lambda terminal, progress: mt.scan_page(terminal, SCAN_DIR, progress)),
}


class MaintenanceAccess:
    """The hidden gesture and the guards against leaving the app; installed once at start."""

    def __init__(self, app, counter: mt.TapCounter | None = None):
        from kivy.core.window import Window  # not at import: Kivy's window settings come first
        self.app, self.window = app, Window
        self.counter = counter or mt.TapCounter()
        Window.bind(on_touch_down=self._touch_down, on_request_close=self._request_close,
                    on_keyboard=self._keyboard)

    @property
    def allow_exit(self) -> bool:
        return self.app.terminal.config.maintenance.allow_exit

    def in_corner(self, x: float, y: float) -> bool:
        side = self.app.style.mm(CORNER_MM)
        return x <= side and y >= self.window.height - side

    def _touch_down(self, window, touch) -> bool:
        if not self.in_corner(touch.x, touch.y) or getattr(touch, "is_mouse_scrolling", False):
            self.counter.reset()
            return False
        if self.counter.tap() and self.app.manager.current != "maintenance":
            if self.app.session.active:  # a technician works outside a citizen's visit: wipe it
                self.app.session.end(EndReason.FINISHED)
            self.app.go("maintenance")
            return True  # the fifth tap opens maintenance and presses nothing under it
        return False

    def _request_close(self, window, *args, **kwargs) -> bool:
        return not self.allow_exit  # True keeps the app running

    def _keyboard(self, window, key, *args) -> bool:
        return key == KEY_F1 or (key == KEY_ESCAPE and not self.allow_exit)


class PageButtons(BoxLayout):
    """Previous/next page for a scrolling list: scrolling by single taps."""

    scroll = ObjectProperty(None)

    def page(self, direction: int) -> None:
        """Scroll by most of a screenful: -1 back towards the top, +1 on towards the end."""
        scroll = self.scroll
        overflow = scroll.children[0].height - scroll.height if scroll.children else 0
        if overflow > 0:
            step = scroll.height * 0.9 / overflow
            scroll.scroll_y = min(1.0, max(0.0, scroll.scroll_y - direction * step))


class DeviceRow(BoxLayout):
    """One device: its name and kind, its status and media detail in words."""

    name = StringProperty("")
    kind = StringProperty("")
    state = ObjectProperty(None, allownone=True)


class SelfTest(BoxLayout):
    """A self-test's button and what it reports; ``image`` is a scan's thumbnail."""

    test_id = StringProperty("")
    title_msgid = StringProperty("")
    outcome = ObjectProperty(None, allownone=True)
    running = BooleanProperty(False)
    image = StringProperty("")


class PinPanel(AnchorLayout):
    """The PIN prompt: a message and the masked keypad."""

    screen = ObjectProperty(None)


class LockedPanel(AnchorLayout):
    """No PIN is configured: maintenance stays locked, and how to set one."""

    screen = ObjectProperty(None)


class ServicePanel(BoxLayout):
    """After the PIN: devices, self-tests, log lines, and the ways out."""

    screen = ObjectProperty(None)


class MaintenanceScreen(BaseScreen):
    show_top_bar = False
    unlocked = BooleanProperty(False)
    pin_enabled = BooleanProperty(True)
    allow_exit = BooleanProperty(False)
    pin_message = ObjectProperty(("", {}))  # (msgid, params) under the keypad
    config_path = StringProperty("")
    log_text = StringProperty("")
    gate: mt.PinGate | None = None  # built from the config on first use; tests may set their own

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._generation = 0  # results of a left visit are dropped
        self._rows: dict[str, DeviceRow] = {}
        self._tests: dict[str, SelfTest] = {}
        self._log_clock = None
        self._log_count = -1
        self.pin_panel = PinPanel(screen=self)
        self.locked_panel = LockedPanel(screen=self)
        self.service_panel = ServicePanel(screen=self)

    @property
    def keypad(self) -> Keypad:
        return self.pin_panel.ids.keypad

    def _show(self, panel) -> None:
        self.ids.holder.clear_widgets()
        self.ids.holder.add_widget(panel)

    # -- PIN ---------------------------------------------------------------------
    def on_activate(self, **kwargs: object) -> None:
        config = self.app.terminal.config
        if self.gate is None:
            self.gate = mt.PinGate(config.maintenance.pin)
        self._generation += 1
        self.unlocked = False
        self.pin_enabled = self.gate.enabled
        self.allow_exit = config.maintenance.allow_exit
        self.config_path = str(config.path)
        self.keypad.clear()
        self._show(self.pin_panel if self.gate.enabled else self.locked_panel)
        wait = self.gate.locked_out_for() if self.gate.enabled else 0
        if wait:
            self._say_locked_out(wait)
        else:
            self._say(N_("Enter the maintenance PIN."))

    def on_deactivate(self) -> None:
        self._generation += 1
        self.unlocked = False
        self.keypad.clear()
        self.ids.holder.clear_widgets()
        if self._log_clock is not None:
            self._log_clock.cancel()
            self._log_clock = None
        self.service_panel.ids.devices.clear_widgets()
        self.service_panel.ids.tests.clear_widgets()
        self._rows, self._tests = {}, {}
        self.log_text = ""

    def submit_pin(self, entry: str) -> None:
        self.keypad.clear()
        result = self.gate.check(entry)
        if result.outcome == "ok":
            self._unlock()
        elif result.outcome == "wrong":
            self._say(N_("Wrong PIN. {tries} tries left."), tries=result.tries_left)
        elif result.outcome == "locked_out":
            self._say_locked_out(result.wait_s)

    def cancel(self) -> None:
        self.app.go_back()

    def _say(self, msgid: str, **params: object) -> None:
        self.pin_message = (msgid, params)

    def _say_locked_out(self, wait_s: float) -> None:
        self._say(N_("Too many wrong PINs. Maintenance is locked for {minutes} minutes."),
                  minutes=max(1, ceil(wait_s / 60)))

    # -- the panel ---------------------------------------------------------------
    def _unlock(self) -> None:
        self.unlocked = True
        self._show(self.service_panel)
        self._rows = {d.name: DeviceRow(name=d.name, kind=d.kind, state=d.state)
                      for d in self.app.terminal.devices}
        for row in self._rows.values():
            self.service_panel.ids.devices.add_widget(row)
        self._tests = {tid: SelfTest(test_id=tid, title_msgid=title) for tid, (title, _, _) in TESTS.items()}
        for test in self._tests.values():
            self.service_panel.ids.tests.add_widget(test)
        self._log_count = -1
        self.refresh_log()
        self._log_clock = Clock.schedule_interval(lambda dt: self.refresh_log(), 1.0)

    def on_device_change(self, change) -> None:
        row = self._rows.get(change.device)
        if row is not None:
            row.state = change.new

    def check_devices(self) -> None:
        """Probe every device now; the answers arrive as device changes."""
        for device in self.app.terminal.devices:
            device.refresh()

    def run_test(self, test_id: str) -> None:
        test = self._tests[test_id]
        if test.running:
            return
        _, starting, start = TESTS[test_id]
        test.running, test.image = True, ""
        test.outcome = mt.Outcome(False, starting)
        generation = self._generation

        def progress(outcome: mt.Outcome) -> None:  # on a device thread
            Clock.schedule_once(lambda dt: self._progress(generation, test, outcome))

        future = start(self.app.terminal, progress)
        future.add_done_callback(
            lambda f: Clock.schedule_once(lambda dt: self._finished(generation, test, f.result())))

    def _progress(self, generation: int, test: SelfTest, outcome: mt.Outcome) -> None:
        if generation == self._generation and test.running:
            test.outcome = outcome

    def _finished(self, generation: int, test: SelfTest, outcome: mt.Outcome) -> None:
        if generation != self._generation:
            return
        test.running, test.outcome, test.image = False, outcome, outcome.image

    def refresh_log(self) -> None:
        buffer = getattr(self.app, "log_buffer", None)
        if buffer is None or buffer.count == self._log_count:
            return
        scroll = self.service_panel.ids.log_scroll
        follow = self._log_count < 0 or scroll.scroll_y < 0.05  # not while paging back
        self._log_count = buffer.count
        self.log_text = "\n".join(buffer.lines(LOG_LINES))
        if follow:
            Clock.schedule_once(lambda dt: self._show_newest(scroll))

    @staticmethod
    def _show_newest(scroll) -> None:
        """The end of the log in view; a log shorter than the view starts at the top."""
        scroll.scroll_y = 0 if scroll.children and scroll.children[0].height > scroll.height else 1

    # -- leaving -------------------------------------------------------------------
    def leave(self) -> None:
        self.app.history = []
        self.app.show("attract")

    def exit_app(self) -> None:
        if self.allow_exit:
            self.app.stop()
