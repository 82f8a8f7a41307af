"""A module's own page: its articles, the service guides it relates to, and plainly what is not offered here.

Articles (newest first) turn a page at a time with big previous/next page buttons; the
related guides (``[related]`` of the articles file) are big buttons that open the guide.
Modules with a screen of their own (service guides) do not come here.
"""
from __future__ import annotations

import logging
from itertools import zip_longest
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.catalog.modules import module as module_of
from l10n import N_, translate
from screens.base import BaseScreen
from screens.layout import set_children
from screens.widgets import BodyLabel
from screens.widgets.item_button import ItemButton
from screens.widgets.paging import PagedList, PagedScroll  # noqa: F401  (kv rules)

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ArticleView(BoxLayout):
    """One published article: title, date and source, then its paragraphs.

    Views are reused from visit to visit: setting ``article`` refills their texts (None
    empties them, which frees their textures).
    """

    article = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs):
        self._paragraphs: list[BodyLabel] = []  # made so far, shown or not
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget) -> None:
        self.on_article(self, self.article)

    def on_article(self, _view, article) -> None:
        if "paragraphs" not in self.ids:
            return  # the kv rule is not applied yet: on_kv_post fills
        texts = article.paragraphs if article else ()
        while len(self._paragraphs) < len(texts):
            self._paragraphs.append(BodyLabel())
        for label, text in zip_longest(self._paragraphs, texts, fillvalue=""):
            label.text = text
        set_children(self.ids.paragraphs, self._paragraphs[:len(texts)])

    @staticmethod
    def byline(article, lang: str) -> str:
        """"2026年11月10日　湖光镇便民服务中心"."""
        if article is None:
            return ""
        day = article.published
        when = translate(N_("{day}/{month}/{year}"), lang, day=day.day, month=day.month, year=day.year)
        return f"{when}　{article.source}" if article.source else when


class ModuleScreen(BaseScreen):
    module_id = StringProperty("")
    title_msgid = StringProperty("")
    not_offered = StringProperty("")
    missing = ListProperty()
    count = NumericProperty(0)   # articles shown
    guides = ListProperty()      # related service items

    def __init__(self, **kwargs):
        self._views: list[ArticleView] = []  # made so far, shown or not
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget) -> None:
        self.ids.guides.factory = self._guide_button
        self.ids.guides.refill = ItemButton.refill

    def on_activate(self, module: str = "news", position: float = 0, guides_page: int = 0,
                    **kwargs: object) -> None:
        """Module ``module``'s page; ``position`` and ``guides_page``: where Back returns to."""
        mod = module_of(module)
        terminal = self.app.terminal
        self.module_id, self.title_msgid, self.not_offered = mod.id, mod.title, mod.not_offered
        self.missing = list(terminal.missing_for(mod))
        articles = terminal.content.of_kind(mod.id)
        self.count = len(articles)
        views = self._article_views(len(articles))
        for view, article in zip(views, articles):
            view.article = article
        set_children(self.ids.articles.body, views)
        self.ids.articles.home(position)
        self.guides = self._related(mod.id)
        self.ids.guides.values = self.guides
        self.ids.guides.page = guides_page

    def on_deactivate(self) -> None:
        self.count = 0
        self.guides = []
        self.ids.guides.values = []
        for view in self._views:
            view.article = None

    def _article_views(self, count: int) -> list[ArticleView]:
        """``count`` article views: made once, reused by every visit."""
        while len(self._views) < count:
            self._views.append(ArticleView())
        return self._views[:count]

    def on_device_change(self, change) -> None:
        if self.module_id:
            self.missing = list(self.app.terminal.missing_for(module_of(self.module_id)))

    def open_guide(self, item) -> None:
        self.activation = {"module": self.module_id, "position": self.ids.articles.position,
                           "guides_page": self.ids.guides.page}  # Back returns to this page
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
