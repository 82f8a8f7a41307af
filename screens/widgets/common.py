"""Big buttons, wrapping labels and the top bar every screen shares."""
from __future__ import annotations

from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label


class EmptiedLetsGo:
    """A label whose text is emptied lets go of its last texture: Kivy's Label keeps it in its
    core label, so every label a screen reuses (module pages, paged lists) would hold one."""

    def texture_update(self, *args: object) -> None:
        super().texture_update(*args)  # type: ignore[misc]
        if self.texture is None:  # type: ignore[attr-defined]
            self._label.texture = None  # type: ignore[attr-defined]


class BodyLabel(EmptiedLetsGo, Label):
    """Body text that wraps to its width and grows to its height."""


class TitleLabel(BodyLabel):
    """A heading."""


class BigButton(EmptiedLetsGo, ButtonBehavior, Label):
    """A touch target of at least the style's minimum size, with a visible border.

    ``bg_color`` defaults to the style's primary colour; ``icon`` is a short text
    symbol drawn before the label so colour is never the only signal.
    """

    bg_color = ColorProperty(None, allownone=True)
    fill = ColorProperty()
    icon = StringProperty("")
    secondary = BooleanProperty(False)


class Notice(BoxLayout):
    """A warning panel: words on a bordered panel, never colour alone."""

    text = StringProperty("")


class StepBox(BoxLayout):
    """What a screen shows at one of its steps. Hidden (``shown`` False) it takes no room, is not
    drawn and takes no touch, even where its children stand out of its zero height (a disabled
    widget swallows the touches that land on it)."""

    shown = BooleanProperty(True)

    def on_touch_down(self, touch) -> bool:
        return self.shown and super().on_touch_down(touch)

    def on_touch_move(self, touch) -> bool:
        return self.shown and super().on_touch_move(touch)

    def on_touch_up(self, touch) -> bool:
        return self.shown and super().on_touch_up(touch)


class TopBar(BoxLayout):
    """Home, back, read aloud, large print, high contrast, language; station and time."""

    clock_text = StringProperty("")
