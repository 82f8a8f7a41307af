"""Paging for elderly readers: big previous/next page buttons instead of swipes.

``PageBar`` is the bar itself (hidden when there is one page); ``PagedScroll`` a column of
text that turns a page at a time: a page turn moves 90 % of the view, so a line cut at
the edge is seen again (scrolling by finger still works, but nobody has to).
"""
from __future__ import annotations

from math import ceil
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.boxlayout import BoxLayout

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

PAGE_OVERLAP = 0.9


class PageBar(BoxLayout):
    """◀ previous page · "page 2 of 5" · next page ▶; a tap dispatches ``on_turn(step)``."""

    page = NumericProperty(1)   # from 1
    pages = NumericProperty(1)
    compact = BooleanProperty(False)  # "2/5" instead of "page 2 of 5", for a narrow column
    __events__ = ("on_turn",)

    def on_turn(self, step: int) -> None:
        """``step`` is -1 (previous page) or 1 (next page)."""


class PagedScroll(BoxLayout):
    """Widgets go into ``body``; ``page`` of ``pages`` (from 1); ``turn(-1 | 1)``; ``home()`` to the top."""

    page = NumericProperty(1)
    pages = NumericProperty(1)

    def on_kv_post(self, base_widget) -> None:
        self.ids.scroll.bind(scroll_y=self._update, height=self._update)
        self.ids.body.bind(height=self._update)

    @property
    def body(self):
        return self.ids.body

    def home(self) -> None:
        self.ids.scroll.scroll_y = 1
        self._update()

    def turn(self, step: int) -> None:
        view, content = self.ids.scroll.height, self.ids.body.height
        if content <= view:
            return
        top = (1 - self.ids.scroll.scroll_y) * (content - view) + step * view * PAGE_OVERLAP
        self.ids.scroll.scroll_y = 1 - min(max(0.0, top), content - view) / (content - view)

    def _update(self, *_: object) -> None:
        view, content = self.ids.scroll.height, self.ids.body.height
        if content <= view or view <= 0:
            self.page = self.pages = 1
            return
        top = (1 - self.ids.scroll.scroll_y) * (content - view)
        self.pages = 1 + ceil((content - view) / (view * PAGE_OVERLAP))
        self.page = self.pages if top >= content - view - 1 else min(self.pages, 1 + round(top / (view * PAGE_OVERLAP)))
