"""A module's own page: its articles, its service guides, and plainly what is not offered here.

Modules with a screen of their own (service guides) do not come here.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.catalog.modules import module as module_of
from screens.base import BaseScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

class ArticleView(BoxLayout):
    """One published article: title, date and source, text."""

    article = ObjectProperty(None)


class ModuleScreen(BaseScreen):
    module_id = StringProperty("")
    title_msgid = StringProperty("")
    not_offered = StringProperty("")
    missing = ListProperty()
    articles = ListProperty()

    def on_activate(self, module: str = "news", **kwargs: object) -> None:
        mod = module_of(module)
        self.module_id, self.title_msgid, self.not_offered = mod.id, mod.title, mod.not_offered
        self.missing = list(self.app.terminal.missing_for(mod))
        self.articles = list(self.app.terminal.content.of_kind(mod.id))
        self.ids.articles.clear_widgets()
        for article in self.articles:
            self.ids.articles.add_widget(ArticleView(article=article))

    def on_deactivate(self) -> None:
        self.articles = []
        self.ids.articles.clear_widgets()
