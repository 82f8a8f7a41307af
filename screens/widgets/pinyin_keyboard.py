"""An on-screen pinyin keyboard: big letter keys, a row of candidate words, single taps only.

The keyboard owns no text field. It publishes ``text`` (what is committed: chosen
characters) and ``letters`` (pinyin typed and not yet converted); its host shows them
and reacts to both (a search can take letters as pinyin/initials, or the characters).
``kiosk.ime.PinyinInput`` segments the letters and ranks the candidates. With ``digits``
on, a row of digit keys stands over the letters (a house number in an address, a room).
"""
from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ime import SEPARATOR, PinyinInput
from screens.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
DIGITS = "1234567890"


class Key(BigButton):
    """A letter key: shows the upper-case letter, types the lower-case one."""

    value = StringProperty("")


class CandidateButton(BigButton):
    index = NumericProperty(0)  # in the whole candidate list


class PinyinKeyboard(BoxLayout):
    """Letters in, Chinese out. Events: ``on_confirm`` (the confirm key with nothing pending)."""

    text = StringProperty("")        # committed characters (and chosen words so far)
    letters = StringProperty("")     # pending pinyin letters
    composition = StringProperty("")  # the letters as syllables: "wu fang chan"
    candidates = ListProperty()      # the candidates' texts on the current page
    has_previous = BooleanProperty(False)
    has_next = BooleanProperty(False)
    max_length = NumericProperty(40)  # characters the field may hold
    digits = BooleanProperty(False)   # show the row of digit keys

    __events__ = ("on_confirm",)

    def __init__(self, **kwargs):
        self._input = PinyinInput()
        self._field = ""          # text confirmed before the current composition
        self._page_starts = [0]   # where each candidate page begins, in the whole list
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget) -> None:
        for row, letters in zip((self.ids.row1, self.ids.row2, self.ids.row3), ROWS):
            keep = len(row.children)  # keys of the kv rule (delete) stay at the row's end
            for letter in letters:
                key = Key(value=letter, text=letter.upper())
                key.bind(on_release=lambda k: self.press(k.value))
                row.add_widget(key, index=keep)
        for digit in DIGITS:
            key = Key(value=digit, text=digit)
            key.bind(on_release=lambda k: self.type_digit(k.value))
            self.ids.digit_row.add_widget(key)
        self.ids.candidates.bind(width=lambda *_: self._show_candidates())

    # -- what the keys do ----------------------------------------------------------
    def press(self, letter: str) -> None:
        """Type one letter (a–z) or the syllable separator."""
        if letter == SEPARATOR and not self._input.latin:
            return
        if self._input.type(letter):
            self._update()

    def type_digit(self, digit: str) -> None:
        """A digit goes in as it is, after the pinyin typed so far becomes its first candidates
        (as Confirm takes them); letters no word fits stay, and the digit waits for them."""
        while self._input.latin and self._input.candidates(1):
            self.choose(0)
        if not self._input.latin:
            self._field = (self._field + digit)[: int(self.max_length)]
            self._update()

    def backspace(self) -> None:
        if self._input.latin or self._input.committed:
            self._input.backspace()
        else:
            self._field = self._field[:-1]
        self._update()

    def clear(self) -> None:
        self._input.clear()
        self._field = ""
        self._update()

    def confirm(self) -> None:
        """With letters pending: take the first candidate; otherwise: ``on_confirm``."""
        if self._input.latin and self._input.candidates(1):
            self.choose(0)
        elif not self._input.latin:
            self.dispatch("on_confirm")

    def choose(self, index: int) -> None:
        """Commit candidate ``index`` of the whole list (``CandidateButton.index``)."""
        done = self._input.choose(index)
        if done is not None:
            self._field = (self._field + done)[: int(self.max_length)]
        self._update()

    def next_page(self) -> None:
        if self.has_next:
            self._page_starts.append(self._page_end)
            self._show_candidates()

    def previous_page(self) -> None:
        if len(self._page_starts) > 1:
            self._page_starts.pop()
            self._show_candidates()

    def set_state(self, text: str = "", letters: str = "") -> None:
        """Put back a field's text and pending letters (coming back to a screen)."""
        self._input.clear()
        self._field = text
        self._input.type(letters)
        self._update()

    def on_confirm(self) -> None:
        pass

    # -- showing it ---------------------------------------------------------------------
    def _update(self) -> None:
        self._page_starts = [0]
        self.text = self._field + self._input.committed
        self.letters = self._input.latin
        self.composition = " ".join(self._input.segments()) if self._input.latin else ""
        self._show_candidates()

    def _show_candidates(self) -> None:
        """Fill the candidate row with as many candidates as fit, from the current page start."""
        box = self.ids.candidates
        box.clear_widgets()
        found = self._input.candidates() if self._input.latin else []
        style = App.get_running_app().style
        start = self._page_starts[-1]
        room, end = box.width or self.width * 0.7, start
        while end < len(found):
            need = max(style.target * 1.2, len(found[end].text) * style.title + 2 * style.pad) + box.spacing
            if room < need and end > start:
                break
            room -= need
            end += 1
        self._page_end = end
        self.candidates = [c.text for c in found[start:end]]
        for n, word in enumerate(self.candidates):
            button = CandidateButton(text=word, index=start + n)
            button.bind(on_release=lambda b: self.choose(b.index))
            box.add_widget(button)
        self.has_previous = start > 0
        self.has_next = end < len(found)
