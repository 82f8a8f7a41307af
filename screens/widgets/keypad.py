"""A numeric keypad: big 0–9 keys, backspace, clear and OK, over an entry that can be masked.

Used for the maintenance PIN, case numbers and the numbers of application forms;
``extra`` adds one more key beside OK (e.g. "X", the check character of an ID number). ``on_submit(value)`` fires on OK;
``value`` is what was typed. Only single taps.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

MASK = "●"


class Keypad(BoxLayout):
    """``value`` is the entry; ``masked`` shows dots; ``hint`` shows while it is empty."""

    value = StringProperty("")
    masked = BooleanProperty(False)
    max_length = NumericProperty(18)
    hint = StringProperty("")
    extra = StringProperty("")  # one more key's character, e.g. "X"; "" for none

    __events__ = ("on_submit",)

    def press(self, digit: str) -> None:
        if len(self.value) < self.max_length:
            self.value += digit

    def backspace(self) -> None:
        self.value = self.value[:-1]

    def clear(self) -> None:
        self.value = ""

    def submit(self) -> None:
        self.dispatch("on_submit", self.value)

    def on_submit(self, value: str) -> None:
        """Fired by OK with the entry."""

    @staticmethod
    def shown(value: str, masked: bool) -> str:
        return MASK * len(value) if masked else value
