"""The base of every screen: activation hooks and what "read aloud" says."""
from __future__ import annotations

from kivy.app import App
from kivy.properties import ColorProperty
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen


class BaseScreen(Screen):
    """A screen of the terminal.

    ``on_activate(**kwargs)`` runs when the app shows it (with what the caller passed),
    ``on_deactivate()`` when it leaves. ``show_top_bar`` hides the bar on the attract
    screen. ``speech_text()`` is what the read-aloud button says. ``backdrop`` is the
    colour the window is cleared to behind it (None: the style's background); a screen
    never paints a window-sized rectangle, which software GL pays for on every frame.
    ``card_may_leave``: taking the ID card out is expected here (no "still there?");
    ``take_staff_badge(uid)`` True: the screen itself took the agent's badge on (or off).
    """

    show_top_bar = True
    card_may_leave = False
    backdrop = ColorProperty(None, allownone=True)
    activation: dict = {}  # what the last on_activate received, to come back to

    @property
    def app(self):
        return App.get_running_app()

    def on_activate(self, **kwargs: object) -> None:
        """Fill the screen for this visit."""

    def on_deactivate(self) -> None:
        """Leaving the screen (the visit may come back to it)."""

    def take_staff_badge(self, uid: str | None) -> bool:
        """An agent's staff badge was put on (``uid``) or taken off (None); False: the app's usual way."""
        return False

    def forget(self) -> None:
        """The visit ended: drop everything it entered or was shown."""
        self.activation = {}
        self.on_deactivate()

    def speech_text(self) -> str:
        """The visible text, top to bottom, left to right."""
        labels = [w for w in self.walk(restrict=True) if isinstance(w, Label) and w.text.strip()
                  and w.get_root_window() is not None and w.opacity > 0]
        labels.sort(key=lambda w: (-round(w.to_window(*w.pos)[1] + w.height), w.to_window(*w.pos)[0]))
        return "\n".join(w.text for w in labels)
