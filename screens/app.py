"""KioskApp: builds the screens, wires the terminal's services, owns the UI thread.

Device changes arrive on device threads and are moved to the UI thread (Kivy's
``mainthread``) before any widget or the session is touched. Screens are registered in
``SCREENS``; ``go(name, **kwargs)`` shows one and keeps the way back.
"""
from __future__ import annotations

import gc
import logging
from importlib import import_module
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import ScreenManager

from drivers.base import StatusChange
from kiosk.catalog.modules import IDCARD
from kiosk.logbuffer import install as install_log_buffer
from kiosk.queue import announcement
from kiosk.session import EndReason, Phase, SessionEvent
from kiosk.terminal import Terminal
from screens.fonts import let_rendered_text_go, register_cjk_font
from screens.layout import lay_out_now
from screens.run import return_free_heap
from screens.style import Style

log = logging.getLogger(__name__)
TIDY_AFTER_S = 3.0  # untouched this long: free what the last screens dropped

# screen name → "module:Class"
SCREENS = {
    "attract": "screens.attract:AttractScreen",
    "home": "screens.home:HomeScreen",
    "group": "screens.group:GroupScreen",
    "module": "screens.module:ModuleScreen",
    "guides": "screens.guides:GuidesScreen",
    "guide": "screens.guide:GuideScreen",
    "maintenance": "screens.maintenance:MaintenanceScreen",
    "out_of_service": "screens.out_of_service:OutOfServiceScreen",
    "cases": "screens.cases:CasesScreen",
    "case": "screens.case:CaseScreen",
    "evaluation": "screens.evaluation:EvaluationScreen",
    "queue": "screens.queue:QueueScreen",
    "staff": "screens.staff:StaffScreen",
    "appointment": "screens.appointment:AppointmentScreen",
    "apply_card": "screens.apply_card:ApplyCardScreen",
    "apply_form": "screens.apply_form:ApplyFormScreen",
    "apply_materials": "screens.apply_materials:ApplyMaterialsScreen",
    "apply_review": "screens.apply_review:ApplyReviewScreen",
    "apply_submit": "screens.apply_submit:ApplySubmitScreen",
}


class Screens(ScreenManager):
    """The app's screens: each one of ``SCREENS`` is built the first time it is asked for.

    The window is cleared to the current screen's ``backdrop`` (see BaseScreen).
    """

    def get_screen(self, name: str):
        if name in SCREENS and not self.has_screen(name):
            module, _, cls = SCREENS[name].partition(":")
            screen = getattr(import_module(module), cls)(name=name)
            screen.fbind("backdrop", self.paint_backdrop)
            self.add_widget(screen)
        return super().get_screen(name)

    def on_current_screen(self, manager, screen) -> None:
        self.paint_backdrop()

    def paint_backdrop(self, *_: object) -> None:
        screen = self.current_screen
        Window.clearcolor = (screen is not None and screen.backdrop) or App.get_running_app().style.bg


class KioskApp(App):
    """The terminal's app. ``terminal`` is the kiosk core; ``style`` the live style."""

    lang = StringProperty("zh_CN")
    terminal_name = StringProperty("")
    style = ObjectProperty(None)
    history = ListProperty()
    landscape = BooleanProperty(True)  # the window is wider than high
    called = ObjectProperty(None, allownone=True)  # the queue ticket called last (attract screen)
    staff_badge = ObjectProperty(None, allownone=True)  # the agent's staff badge on the reader (its UID)

    def __init__(self, terminal: Terminal, **kwargs):
        super().__init__(**kwargs)
        self.terminal = terminal
        self.lang = terminal.config.terminal.language
        self.terminal_name = terminal.config.terminal.station
        self.style = Style(dpi=terminal.config.display.dpi)
        self.title = "村便民服务站自助终端"
        self.log_buffer = install_log_buffer()  # the maintenance screen's last log lines
        self.exit_code = 0  # what ``kiosk run`` exits with (the fleet's restart_app sets its own)

    # -- building ----------------------------------------------------------------
    def build(self):
        register_cjk_font()
        let_rendered_text_go()
        Window.bind(size=lambda window, size: setattr(self, "landscape", size[0] > size[1]))
        self.landscape = Window.width > Window.height
        import screens.widgets  # noqa: F401  (loads the shared kv rules)
        root = Builder.load_file(str(Path(__file__).with_name("app.kv")))
        self.style.fbind("bg", root.ids.manager.paint_backdrop)
        return root

    def on_start(self) -> None:
        from screens.idle import IdleOverlay
        self.idle = IdleOverlay()
        self.idle.bind(on_more_time=lambda *_: self.session.extend(),
                       on_end=lambda *_: self.session.end(EndReason.FINISHED))
        self.session.subscribe(self._session_event)
        Window.bind(on_touch_down=self._any_touch)
        Clock.schedule_interval(self._tick_session, 0.25)
        Clock.schedule_interval(lambda dt: self.terminal.reload_data(), 30)
        self.terminal.on_device_change(self._on_device_change)
        self.terminal.on_staff_badge(self._on_staff_badge)
        self._tidy = Clock.create_trigger(self._tidy_up, TIDY_AFTER_S)
        Window.fbind("on_flip", self._first_frame_shown)
        self.show("attract")
        from screens.maintenance import MaintenanceAccess
        from screens.out_of_service import ServiceWatch
        self.maintenance_access = MaintenanceAccess(self)  # hidden gesture; no way out unless allow_exit
        self.service_watch = ServiceWatch(self)
        self.terminal.on_config_change(mainthread(lambda config: setattr(self, "terminal_name", config.terminal.station)))
        if self.terminal.fleet is not None:
            from screens.fleet_screen import FleetScreen
            self.fleet_screen = FleetScreen(self, self.terminal.fleet)

    def _first_frame_shown(self, *_: object) -> None:
        """The devices start once the attract screen is up (they report on their own threads)."""
        Window.funbind("on_flip", self._first_frame_shown)
        Clock.schedule_once(lambda dt: self.terminal.start())

    def _tidy_up(self, dt: float) -> None:
        """Nobody is touching the screen: free the widgets the last screens dropped (they form
        reference cycles, so only the cycle collector frees them and their textures), then
        give the freed heap back to the system. A full collection takes up to ~0.1 s."""
        gc.collect()
        return_free_heap()

    def on_stop(self) -> None:
        self.terminal.close()

    # -- navigation ----------------------------------------------------------------
    @property
    def manager(self):
        return self.root.ids.manager

    @property
    def screen(self):
        return self.manager.current_screen

    def show(self, name: str, **kwargs: object) -> None:
        """Show screen ``name`` without remembering the way back (home, attract)."""
        current = self.manager.current_screen
        if current is not None and current.name != name:
            current.on_deactivate()
        self.manager.current = name
        screen = self.manager.get_screen(name)
        screen.activation = kwargs
        self.root.ids.topbar.opacity = 1 if screen.show_top_bar else 0
        self.root.ids.topbar.disabled = not screen.show_top_bar
        screen.on_activate(**kwargs)
        lay_out_now(self.root)  # the new screen's text renders once, at its final width
        self._tidy.cancel()
        self._tidy()

    def go(self, name: str, **kwargs: object) -> None:
        """Show screen ``name``; Back returns to the current one as it was."""
        self.history.append((self.manager.current, self.screen.activation))
        self.show(name, **kwargs)

    def go_back(self) -> None:
        if not self.history:
            return self.go_home()
        name, kwargs = self.history.pop()
        self.show(name, **kwargs)

    def go_home(self) -> None:
        self.history = []
        self.show("home")

    def wake(self, touch) -> None:
        """The first touch on the attract screen: a visit begins at home."""
        self.session.start()
        self.go_home()

    # -- the visit ---------------------------------------------------------------------
    @property
    def session(self):
        return self.terminal.session

    def _any_touch(self, window, touch) -> None:
        self._tidy.cancel()
        self._tidy()
        if self.session.active:
            self.session.touch()

    def _tick_session(self, dt: float) -> None:
        state = self.session.tick()
        warning = state is not None and state.phase == Phase.WARNING
        if warning:
            self.idle.prompt = self.session.prompt()
            self.idle.seconds = max(0, int(state.seconds_left + 0.999))
            if self.idle.parent is None:
                self.idle.open(animation=False)
        elif self.idle.parent is not None:
            self.idle.dismiss(animation=False)

    def _session_event(self, event: SessionEvent) -> None:
        if event.kind == "ended":
            self.end_visit()

    def end_visit(self) -> None:
        """After the privacy wipe: every screen forgets the visit; back to attract, defaults."""
        if self.idle.parent is not None:
            self.idle.dismiss(animation=False)
        self.terminal.speaker.stop()
        for screen in self.manager.screens:
            screen.forget()
        self.history = []
        self.lang = self.terminal.config.terminal.language
        self.style.large = self.style.high_contrast = False
        self.show("attract")

    # -- settings a person can change -------------------------------------------------
    def toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh_CN" else "zh_CN"

    def read_aloud(self) -> None:
        self.terminal.speaker.say(self.screen.speech_text(), self.lang)

    # -- the queue ------------------------------------------------------------------------
    def announce_call(self, ticket) -> None:
        """A queue number was called: on the attract screen, and by voice in Chinese."""
        self.called = ticket
        self.terminal.speaker.say(announcement(ticket, "zh_CN", spoken=True), "zh_CN")

    @mainthread  # called on the PC/SC reader's thread
    def _on_staff_badge(self, uid: str | None) -> None:
        """An agent's badge on the reader opens the staff screen (unless the screen takes it, e.g.
        an application the agent makes for a villager); taking it off ends the staff screen's visit."""
        self.staff_badge = uid
        if self.screen.take_staff_badge(uid):
            return
        if uid is not None:
            self.session.start()
            self.history = []
            self.go("staff")
        elif self.manager.current == "staff":
            self.session.end(EndReason.FINISHED)

    # -- devices -----------------------------------------------------------------------
    @mainthread  # called on a device thread; runs on the UI thread
    def _on_device_change(self, change: StatusChange) -> None:
        if not (change.kind == IDCARD and self.screen.card_may_leave):
            self.session.on_device_change(change)
        handler = getattr(self.screen, "on_device_change", None)
        if handler is not None:
            handler(change)

