"""Service guides (办事指南): browse by village window, township department or life event, or search.

Lists show a page at a time with big previous/next page buttons (no scrolling needed).
The search field is fed by the on-screen pinyin keyboard and searches on every
keystroke: pending letters search by full pinyin or initials ("wfc" → 无房产证明),
chosen characters search by characters. What the screen shows is kept in
``activation`` so Back from a guide returns to the same list and page.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.catalog.items import LIFE_EVENTS, VILLAGE
from l10n import N_, translate
from screens.base import BaseScreen
from screens.layout import lay_out_now
from screens.widgets import BigButton
from screens.widgets.item_button import ItemButton
from screens.widgets.paging import PagedList  # noqa: F401  (kv rule)
from screens.widgets.pinyin_keyboard import PinyinKeyboard  # noqa: F401  (kv rule)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

MODES = ("window", "department", "event", "search")


class ModeTab(BigButton):
    msgid_text = StringProperty("")  # the translated tab name
    selected = BooleanProperty(False)


class CategoryButton(BigButton):
    value = StringProperty("")
    label = StringProperty("")  # msgid (life events) or data (windows, departments)
    selected = BooleanProperty(False)


class SearchPanel(BoxLayout):
    """The search field (``ids.field``) over the pinyin keyboard (``ids.keyboard``)."""


class GuidesScreen(BaseScreen):
    mode = StringProperty("window")
    category = StringProperty("")
    count = NumericProperty(0)

    def __init__(self, **kwargs):
        self._search_panel: SearchPanel | None = None  # built at the first search
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget) -> None:
        self.ids.categories.factory = self._category_button
        self.ids.results.factory = self._item_button
        self.ids.results.refill = ItemButton.refill
        self._browse = self.ids.categories.__self__  # strong: out of the tree while searching

    @property
    def search_panel(self) -> SearchPanel:
        """Made when first asked for: ~6 MiB built, ~12 MiB drawn, and most visits only browse."""
        if self._search_panel is None:
            self._search_panel = SearchPanel()
            self._search_panel.ids.keyboard.bind(text=self._search, letters=self._search)
        return self._search_panel

    def on_activate(self, mode: str = "window", category: str = "", text: str = "",
                    letters: str = "", page: int = 0, **kwargs: object) -> None:
        if text or letters:
            self.search_panel.ids.keyboard.set_state(text, letters)
        self.set_mode(mode if mode in MODES else "window", category)
        self.ids.results.page = page

    def on_deactivate(self) -> None:
        self.activation = {}  # the way back already holds it; nothing typed stays here
        if self._search_panel is not None:
            self._search_panel.ids.keyboard.clear()
        self.ids.results.values = []

    # -- what a tap does --------------------------------------------------------------
    def set_mode(self, mode: str, category: str = "") -> None:
        self.mode = mode
        selector, shown = self.ids.selector, self.search_panel if mode == "search" else self._browse
        if shown.parent is not selector:
            selector.clear_widgets()
            selector.add_widget(shown)
            lay_out_now(self)  # the new panel's labels render once, at their width
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
        keyboard = self.search_panel.ids.keyboard
        query = keyboard.text or keyboard.letters  # characters once chosen, else the letters
        self.category = query
        self._show(self.app.terminal.search(query) if query else ())

    def _show(self, items) -> None:
        self.count = len(items)
        self.ids.results.values = list(items)

    def _remember(self) -> None:
        typed = self._search_panel.ids.keyboard if self.mode == "search" else None
        self.activation = {"mode": self.mode, "category": self.category if self.mode != "search" else "",
                           "text": typed.text if typed else "", "letters": typed.letters if typed else "",
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
