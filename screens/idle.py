"""The "still there?" question: a large countdown and one tap for more time.

Shown over any screen when the visit has been idle (or the ID card was taken out);
no answer ends the visit with its privacy wipe.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.modalview import ModalView

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class IdleOverlay(ModalView):
    """``prompt`` is a msgid; ``seconds`` counts down; ``on_more_time``/``on_end`` are the answers."""

    prompt = StringProperty("")
    seconds = NumericProperty(0)
    __events__ = ("on_more_time", "on_end")

    def __init__(self, **kwargs):
        super().__init__(auto_dismiss=False, **kwargs)

    def on_more_time(self) -> None:
        pass

    def on_end(self) -> None:
        pass
