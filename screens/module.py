"""A module's own page: its articles, the service guides it relates to, and plainly what is not offered here.

Articles (newest first) turn a page at a time with big previous/next page buttons; the
related guides (``[related]`` of the articles file) are big buttons that open the guide.
Modules with a screen of their own (service guides) do not come here.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.catalog.modules import module as module_of
from l10n import N_, translate
from screens.base import BaseScreen
from screens.guides import ItemButton, PagedList
from screens.widgets import BodyLabel
from screens.widgets.paging import PageBar, PagedScroll  # noqa: F401  (kv rules)

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ArticleView(BoxLayout):
    """One published article: title, date and source, then its paragraphs (given when made)."""

    article = ObjectProperty(None)

    def on_kv_post(self, base_widget) -> None:
        for paragraph in self.article.paragraphs if self.article else ():
            self.ids.paragraphs.add_widget(BodyLabel(text=paragraph))

    @staticmethod
    def byline(article, lang: str) -> str:
        """"2026年11月10日　湖光镇便民服务中心"."""
        if article is None:
            return ""
        day = article.published
        when = translate(N_("{day}/{month}/{year}"), lang, day=day.day, month=day.month, year=day.year)
        return f"{when}　{article.source}" if article.source else when


class RelatedGuides(PagedList):
    """The guides' paged list of items, with the shared page bar (it fits a narrow column)."""


class ModuleScreen(BaseScreen):
    module_id = StringProperty("")
    title_msgid = StringProperty("")
    not_offered = StringProperty("")
    missing = ListProperty()
    count = NumericProperty(0)   # articles shown
    guides = ListProperty()      # related service items

    def on_kv_post(self, base_widget) -> None:
        self.ids.guides.factory = self._guide_button

    def on_activate(self, module: str = "news", **kwargs: object) -> None:
        mod = module_of(module)
        terminal = self.app.terminal
        self.module_id, self.title_msgid, self.not_offered = mod.id, mod.title, mod.not_offered
        self.missing = list(terminal.missing_for(mod))
        articles = terminal.content.of_kind(mod.id)
        self.count = len(articles)
        body = self.ids.articles.body
        body.clear_widgets()
        for article in articles:
            body.add_widget(ArticleView(article=article))
        self.ids.articles.home()
        self.guides = self._related(mod.id)
        self.ids.guides.values = self.guides

    def on_deactivate(self) -> None:
        self.count = 0
        self.guides = []
        self.ids.guides.values = []
        self.ids.articles.body.clear_widgets()

    def on_device_change(self, change) -> None:
        if self.module_id:
            self.missing = list(self.app.terminal.missing_for(module_of(self.module_id)))

    def open_guide(self, item) -> None:
        self.app.go("guide", code=item.code.basic)

    @staticmethod
    def related_height(count: int, cols: int, row: float, heading: float, gap: float, pager: float) -> float:
        """Height of the related-guides panel in portrait: the heading, two rows at most, the pager."""
        if not count:
            return 0
        rows = -(-min(count, 2 * cols) // cols)
        return heading + gap + rows * (row + gap) + (pager + gap if count > 2 * cols else 0) + gap / 2  # slack: rows fit

    def _related(self, module_id: str) -> list:
        """The catalog items the module relates to; codes the catalog in use lacks are left out."""
        catalog, items = self.app.terminal.catalog, []
        for code in self.app.terminal.content.related_to(module_id):
            item = catalog.get(code)
            if item is None:
                log.warning("module %s: related item %s is not in the catalog", module_id, code)
            else:
                items.append(item)
        return items

    def _guide_button(self, item) -> ItemButton:
        button = ItemButton(item=item)
        button.bind(on_release=lambda b: self.open_guide(b.item))
        return button
