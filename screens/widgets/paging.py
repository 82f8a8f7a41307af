"""Paging for elderly readers: big previous/next page buttons instead of swipes.

``PageBar`` is the bar itself (hidden when there is one page); ``PagedScroll`` a column of
text that turns a page at a time: a page turn moves 90 % of the view, so a line cut at
the edge is seen again (scrolling by finger still works, but nobody has to); ``PagedList``
a list of values shown a page of rows at a time, only the shown page's widgets built.
"""
from __future__ import annotations

from math import ceil, floor
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView

from screens.layout import lay_out_now, set_children

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


class StillScrollView(ScrollView):
    """A ScrollView whose bar keeps its colour: Kivy fades it for half a second after every
    scroll or layout, and in software GL each step of a fade redraws the whole window."""

    def _bind_inactive_bar_color(self, *_: object) -> None:
        pass  # Kivy's hook that starts the fade


class PagedScroll(BoxLayout):
    """Widgets go into ``body``; ``page`` of ``pages`` (from 1); ``turn(-1 | 1)``; ``home()`` to the top.

    ``position`` is how far down the view is, in pixels; ``home(position)`` goes back there,
    also while the body is still growing to its height (a screen coming back).
    """

    page = NumericProperty(1)
    pages = NumericProperty(1)

    def __init__(self, **kwargs):
        self._wanted: float | None = None  # the position asked for, kept until a page turn
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget) -> None:
        self.ids.scroll.bind(scroll_y=self._update, height=self._place, on_scroll_start=self._let_go)
        self.ids.body.bind(height=self._place)

    @property
    def body(self):
        return self.ids.body

    @property
    def position(self) -> float:
        return (1 - self.ids.scroll.scroll_y) * max(0.0, self.ids.body.height - self.ids.scroll.height)

    def home(self, position: float = 0) -> None:
        self._wanted = position
        self._place()

    def _place(self, *_: object) -> None:
        if self._wanted is not None:
            view, content = self.ids.scroll.height, self.ids.body.height
            self.ids.scroll.scroll_y = 1 - min(self._wanted, content - view) / (content - view) if content > view else 1
        self._update()

    def _let_go(self, *_: object) -> None:
        self._wanted = None

    def turn(self, step: int) -> None:
        self._wanted = None
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


class PagedList(BoxLayout):
    """``values`` a page at a time: as many rows of ``row_height`` as fit, in ``cols`` columns.

    ``factory(value)`` makes each value's widget; only the shown page's are made, before
    the frame that shows them. With ``refill(widget, value)`` as well, the widgets made are
    kept and refilled by the next pages and lists instead (value None empties one).
    ``page`` counts from 0.
    """

    values = ListProperty()
    cols = NumericProperty(1)
    row_height = NumericProperty(100)
    page = NumericProperty(0)
    pages = NumericProperty(1)
    factory = ObjectProperty(None)
    refill = ObjectProperty(None)

    def __init__(self, **kwargs):
        self._refill = Clock.create_trigger(self._fill, -1)  # before the next frame
        self._shown = None  # what the grid holds: (values, first, last, factory)
        self._made = []  # widgets kept for reuse (with ``refill``)
        super().__init__(**kwargs)
        self.bind(values=self._restart, cols=self._refill, row_height=self._refill, page=self._refill)

    def on_kv_post(self, base_widget) -> None:
        self.ids.grid.bind(height=self._refill)

    @property
    def per_page(self) -> int:
        grid = self.ids.grid
        rows = floor((grid.height + grid.spacing[1]) / (self.row_height + grid.spacing[1]))
        return max(1, rows) * int(self.cols)

    def _restart(self, *_: object) -> None:
        self.page = 0
        self._refill()

    def turn(self, step: int) -> None:
        self.page = min(max(0, self.page + step), self.pages - 1)

    def _fill(self, *_: object) -> None:
        grid, per = self.ids.grid, self.per_page
        self.pages = max(1, -(-len(self.values) // per))
        if self.page >= self.pages:
            self.page = self.pages - 1
        first, last = self.page * per, min(len(self.values), (self.page + 1) * per)
        shown = (tuple(self.values), first, last, self.factory)
        if shown == self._shown:
            return  # a layout pass that changed nothing shown: keep the widgets
        self._shown = shown
        values = self.values[first:last] if self.factory is not None else []
        set_children(grid, [self._widget(i, value) for i, value in enumerate(values)])
        for unused in self._made[len(values):]:
            self.refill(unused, None)
        lay_out_now(grid)

    def _widget(self, index: int, value):
        if self.refill is None:
            return self.factory(value)
        if index < len(self._made):
            self.refill(self._made[index], value)
        else:
            self._made.append(self.factory(value))
        return self._made[index]
