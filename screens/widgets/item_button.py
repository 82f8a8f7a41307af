"""A service item in a list: its name, and its window, time limit and fee below."""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.utils import escape_markup

from kiosk.printing import time_limit
from l10n import N_, translate
from screens.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ItemButton(BigButton):
    """One service item in a list: its name, and its window, time limit and fee below."""

    item = ObjectProperty(None, allownone=True)

    @staticmethod
    def refill(button: ItemButton, item) -> None:
        """A ``PagedList``'s ``refill``: the button shows another item (None: nothing)."""
        button.item = item

    def caption(self, lang: str, small: float) -> str:
        item = self.item
        detail = " · ".join((translate(N_("{window} window"), lang, window=item.window),
                             time_limit(item, lang), item.fee_standard))
        return f"{escape_markup(item.name)}\n[size={int(small)}]{escape_markup(detail)}[/size]"
