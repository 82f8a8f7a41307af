"""Big buttons, wrapping labels and the top bar every screen shares."""
from __future__ import annotations

from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label


class BodyLabel(Label):
    """Body text that wraps to its width and grows to its height."""


class TitleLabel(BodyLabel):
    """A heading."""


class BigButton(ButtonBehavior, Label):
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


class TopBar(BoxLayout):
    """Home, back, read aloud, large print, high contrast, language; station and time."""

    clock_text = StringProperty("")
