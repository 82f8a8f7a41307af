"""KioskApp: builds the screens, wires the terminal's services, owns the UI thread.

Device changes arrive on device threads and are moved to the UI thread with
``Clock.schedule_once`` before any widget is touched. Screens are registered in
``SCREENS``; ``go(name, **kwargs)`` shows one and keeps the way back.
"""
from __future__ import annotations

import logging
from importlib import import_module
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import ListProperty, ObjectProperty, StringProperty

from drivers.base import StatusChange
from kiosk.terminal import Terminal
from screens.fonts import register_cjk_font
from screens.style import Style

log = logging.getLogger(__name__)

# screen name → "module:Class"
SCREENS = {
    "attract": "screens.attract:AttractScreen",
    "home": "screens.home:HomeScreen",
    "group": "screens.group:GroupScreen",
    "module": "screens.module:ModuleScreen",

}


class KioskApp(App):
    """The terminal's app. ``terminal`` is the kiosk core; ``style`` the live style."""

    lang = StringProperty("zh_CN")
    terminal_name = StringProperty("")
    style = ObjectProperty(None)
    history = ListProperty()

    def __init__(self, terminal: Terminal, dpi: float = 102, **kwargs):
        super().__init__(**kwargs)
        self.terminal = terminal
        self.lang = terminal.config.terminal.language
        self.terminal_name = terminal.config.terminal.station
        self.style = Style(dpi=dpi)
        self.title = "村便民服务站自助终端"

    # -- building ----------------------------------------------------------------
    def build(self):
        register_cjk_font()
        import screens.widgets  # noqa: F401  (loads the shared kv rules)
        root = Builder.load_file(str(Path(__file__).with_name("app.kv")))
        for name, target in SCREENS.items():
            module, _, cls = target.partition(":")
            root.ids.manager.add_widget(getattr(import_module(module), cls)(name=name))
        return root

    def on_start(self) -> None:
        self.terminal.on_device_change(self._device_changed)
        self.terminal.start()
        self.show("attract")

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
        self.go_home()

    # -- settings a person can change -------------------------------------------------
    def toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh_CN" else "zh_CN"

    def read_aloud(self) -> None:
        log.info("read aloud: %s", self.screen.speech_text())

    # -- devices -----------------------------------------------------------------------
    def _device_changed(self, change: StatusChange) -> None:  # on a device thread
        Clock.schedule_once(lambda dt: self._on_device_change(change))

    @mainthread
    def _on_device_change(self, change: StatusChange) -> None:
        handler = getattr(self.screen, "on_device_change", None)
        if handler is not None:
            handler(change)


def configure_window(windowed: bool, orientation: str) -> None:
    """Full screen on the terminal; a window of the terminal's shape for development."""
    if windowed:
        Window.size = (960, 540) if orientation == "landscape" else (540, 960)
    else:
        Window.fullscreen = "auto"
    Window.clearcolor = (0, 0, 0, 1)
