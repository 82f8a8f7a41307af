"""Service guides (办事指南): browse by village window, township department or life event, or search.

Lists show a page at a time with big previous/next page buttons (no scrolling needed).
The search field is fed by the on-screen pinyin keyboard and searches on every
keystroke: pending letters search by full pinyin or initials ("wfc" → 无房产证明),
chosen characters search by characters. What the screen shows is kept in
``activation`` so Back from a guide returns to the same list and page.
"""
from __future__ import annotations

from math import floor
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.utils import escape_markup

from kiosk.catalog.items import LIFE_EVENTS, VILLAGE
from kiosk.printing import time_limit
from l10n import N_, translate
from screens.base import BaseScreen
from screens.widgets import BigButton
from screens.widgets.pinyin_keyboard import PinyinKeyboard  # noqa: F401  (kv rule)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

MODES = ("window", "department", "event", "search")


class PagedList(BoxLayout):
    """``values`` a page at a time: as many rows of ``row_height`` as fit, in ``cols`` columns.

    ``factory(value)`` makes each value's widget.
    """

    values = ListProperty()
    cols = NumericProperty(1)
    row_height = NumericProperty(100)
    page = NumericProperty(0)
    pages = NumericProperty(1)
    factory = ObjectProperty(None)

    def __init__(self, **kwargs):
        self._refill = Clock.create_trigger(self._fill)
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
        grid.clear_widgets()
        if self.factory is not None:
            for value in self.values[self.page * per:(self.page + 1) * per]:
                grid.add_widget(self.factory(value))


class ModeTab(BigButton):
    msgid_text = StringProperty("")  # the translated tab name
    selected = BooleanProperty(False)


class CategoryButton(BigButton):
    value = StringProperty("")
    label = StringProperty("")  # msgid (life events) or data (windows, departments)
    selected = BooleanProperty(False)


class ItemButton(BigButton):
    """One service item in a list: its name, and its window, time limit and fee below."""

    item = ObjectProperty(None)

    def caption(self, lang: str, small: float) -> str:
        item = self.item
        detail = " · ".join((translate(N_("{window} window"), lang, window=item.window),
                             time_limit(item, lang), item.fee_standard))
        return f"{escape_markup(item.name)}\n[size={int(small)}]{escape_markup(detail)}[/size]"


class GuidesScreen(BaseScreen):
    mode = StringProperty("window")
    category = StringProperty("")
    count = NumericProperty(0)

    def on_kv_post(self, base_widget) -> None:
        self.ids.categories.factory = self._category_button
        self.ids.results.factory = self._item_button
        keyboard = self.ids.keyboard
        keyboard.bind(text=self._search, letters=self._search)
        # strong references: the panel not shown is out of the tree, and ``ids`` are weak
        self._panels = {"browse": self.ids.categories.__self__, "search": self.ids.search_panel.__self__}

    def on_activate(self, mode: str = "window", category: str = "", text: str = "",
                    letters: str = "", page: int = 0, **kwargs: object) -> None:
        self.ids.keyboard.set_state(text, letters)
        self.set_mode(mode if mode in MODES else "window", category)
        self.ids.results.page = page

    def on_deactivate(self) -> None:
        self.activation = {}  # the way back already holds it; nothing typed stays here
        self.ids.keyboard.clear()
        self.ids.results.values = []

    # -- what a tap does --------------------------------------------------------------
    def set_mode(self, mode: str, category: str = "") -> None:
        self.mode = mode
        selector, shown = self.ids.selector, self._panels["search" if mode == "search" else "browse"]
        if shown.parent is not selector:  # the other panel stays alive in ``ids``
            selector.clear_widgets()
            selector.add_widget(shown)
        if mode == "search":
            self.ids.categories.values = []
            self._search()
            return
        values = self._categories(mode)
        self.ids.categories.values = values
        self.choose(category if category in values else values[0] if values else "")

    def choose(self, category: str) -> None:
        self.category = category
        catalog = self.app.terminal.catalog
        items = {"window": lambda c: catalog.by_window(c, VILLAGE), "department": catalog.by_department,
                 "event": catalog.by_life_event}[self.mode](category) if category else ()
        self._show(items)
        for button in self.ids.categories.ids.grid.children:
            button.selected = button.value == category

    def open(self, item) -> None:
        self._remember()
        self.app.go("guide", code=item.code.basic)

    # -- inner workings -------------------------------------------------------------
    def _categories(self, mode: str) -> list[str]:
        catalog = self.app.terminal.catalog
        if mode == "window":
            return list(catalog.windows(VILLAGE))
        if mode == "department":
            return list(catalog.departments())
        return list(catalog.life_events())

    def _search(self, *_: object) -> None:
        if self.mode != "search":
            return
        keyboard = self.ids.keyboard
        query = keyboard.text or keyboard.letters  # characters once chosen, else the letters
        self.category = query
        self._show(self.app.terminal.search(query) if query else ())

    def _show(self, items) -> None:
        self.count = len(items)
        self.ids.results.values = list(items)

    def _remember(self) -> None:
        keyboard = self.ids.keyboard
        self.activation = {"mode": self.mode, "category": self.category if self.mode != "search" else "",
                           "text": keyboard.text, "letters": keyboard.letters,
                           "page": self.ids.results.page}

    def _category_button(self, value: str) -> CategoryButton:
        label = LIFE_EVENTS[value] if self.mode == "event" else value
        button = CategoryButton(value=value, label=label, selected=value == self.category)
        button.bind(on_release=lambda b: self.choose(b.value))
        return button

    def _item_button(self, item) -> ItemButton:
        button = ItemButton(item=item)
        button.bind(on_release=lambda b: self.open(b.item))
        return button

    def heading(self, lang: str, mode: str, category: str, count: int) -> str:
        """The line above the results."""
        if mode == "search":
            if not category:
                return translate(N_("Type letters or choose characters: results appear as you type."), lang)
            if not count:
                return translate(N_("Nothing found for “{query}”. Try fewer letters, or browse by window."),
                                 lang, query=category)
            return translate(N_("{count} services found for “{query}”"), lang, count=count, query=category)
        name = translate(LIFE_EVENTS.get(category, category), lang) if mode == "event" else category
        if mode == "window":
            name = translate(N_("{window} window"), lang, window=category)
        return translate(N_("{name}: {count} services"), lang, name=name, count=count)
