"""Every module page by touch: two taps from home, real articles, related guides that open.

Real touches through Kivy's input path on the app under Xvfb; the articles and the
related-guide mapping are the bundled data files.
"""
from __future__ import annotations

from collections import Counter

import pytest
from kivy.uix.label import Label

from kiosk.catalog.modules import GROUPS, MODULES, modules_in
from l10n import translate
from screens.group import OWN_SCREENS
from screens.guides import ItemButton
from screens.module import ArticleView
from screens.widgets import BigButton

PAGES = [m for m in MODULES if m.id not in OWN_SCREENS]
NOTHING = translate("Nothing has been published here yet.", "zh_CN")


def open_module(ui, group_id: str, module_id: str):
    """Home → group → module, a tap each; returns the module screen."""
    ui.app.go_home()
    ui.frames(2)
    group = next(g for g in GROUPS if g.id == group_id)
    ui.tap(ui.find(text=translate(group.title, "zh_CN")))
    assert ui.screen == "group"
    button = next(b for b in ui.find_all(BigButton) if getattr(b, "module_id", "") == module_id)
    ui.tap(button)
    assert ui.screen == "module"
    screen = ui.app.screen
    assert screen.module_id == module_id
    return screen


def on_view(ui, widget, view) -> bool:
    """``widget`` is drawn inside ``view``'s rectangle (not scrolled away)."""
    wx, wy = widget.to_window(*widget.pos)
    vx, vy = view.to_window(*view.pos)
    return vy - 1 <= wy and wy + widget.height <= vy + view.height + 1 and vx - 1 <= wx


@pytest.mark.parametrize("group", [g.id for g in GROUPS])
def test_every_module_shows_articles_and_opens_its_guides(ui, group):
    ui.tap((10, 10))  # wakes the terminal at home
    related = ui.app.terminal.content.related_to
    for mod in modules_in(group):
        if mod.id in OWN_SCREENS:  # a screen of its own (tests of that screen)
            continue
        screen = open_module(ui, group, mod.id)
        newest = ui.app.terminal.content.of_kind(mod.id)[0]
        title = ui.find(text=newest.title)
        assert on_view(ui, title, screen.ids.articles.ids.scroll), mod.id
        assert len([w for w in ui.find_all(ArticleView)]) >= 2, mod.id
        assert not ui.find_all(text=NOTHING), mod.id
        if mod.not_offered:
            assert translate(mod.not_offered, "zh_CN") in screen.ids.not_offered.children[0].text
        buttons = [b for b in ui.find_all(ItemButton) if b.item is not None]
        assert [b.item.code.basic for b in buttons] == list(related(mod.id))[:len(buttons)], mod.id
        if related(mod.id):
            first = buttons[0]
            ui.tap(first)
            assert ui.screen == "guide", mod.id
            assert ui.app.screen.item.code.basic == related(mod.id)[0]
            ui.tap(ui.app.root.ids.topbar.ids.back)
            assert ui.screen == "module" and ui.app.screen.module_id == mod.id


def test_long_pages_turn_with_big_buttons(ui):
    ui.tap((10, 10))
    screen = open_module(ui, "village", "employment")
    articles = screen.ids.articles
    assert articles.pages > 1
    first_title = ui.find(text=ui.app.terminal.content.of_kind("employment")[0].title)
    ui.tap(articles.ids.pager.ids.next_page)
    assert articles.page == 2
    assert not on_view(ui, first_title, articles.ids.scroll)
    ui.tap(articles.ids.pager.ids.previous_page)
    assert articles.page == 1 and on_view(ui, first_title, articles.ids.scroll)


def test_many_related_guides_page_in_the_side_column(ui):
    ui.tap((10, 10))
    ui.app.style.large = True
    screen = open_module(ui, "government", "online")
    guides = screen.ids.guides
    assert guides.pages > 1
    shown = {b.item.code.basic for b in ui.find_all(ItemButton)}
    ui.tap(guides.ids.pager.ids.next_page)
    assert guides.page == 1
    after = {b.item.code.basic for b in ui.find_all(ItemButton)}
    assert after and not after & shown


def test_english_keeps_the_articles_and_dates_follow_the_language(ui):
    ui.tap((10, 10))
    screen = open_module(ui, "assets", "notices")
    view = next(w for w in ui.find_all(ArticleView))
    ui.tap(ui.app.root.ids.topbar.ids.language)
    day = view.article.published
    assert ui.find(text=view.article.title)  # the published text stays as published
    assert ui.find(text=f"{day.day}/{day.month}/{day.year}　{view.article.source}")
    assert ui.find(text="Notices") and ui.find(text="Related service guides")
    assert screen.count == len(ui.app.terminal.content.of_kind("notices"))


def test_back_from_a_guide_returns_to_the_same_page(ui):
    ui.tap((10, 10))
    ui.app.style.large = True  # the related guides need more than one page too
    screen = open_module(ui, "government", "online")
    articles, guides = screen.ids.articles, screen.ids.guides
    assert articles.pages > 1 and guides.pages > 1
    ui.tap(articles.ids.pager.ids.next_page)
    ui.tap(guides.ids.pager.ids.next_page)
    page, position, shown = articles.page, articles.position, [b.item for b in ui.find_all(ItemButton)]
    assert page == 2 and guides.page == 1
    ui.tap(ui.find(ItemButton, shown[0].name))
    assert ui.screen == "guide" and ui.app.screen.item is shown[0]
    ui.tap(ui.app.root.ids.topbar.ids.back)
    assert ui.screen == "module" and screen.module_id == "online"
    ui.settle()
    assert (articles.page, guides.page) == (page, 1)
    assert position > 0 and abs(articles.position - position) < 1
    assert [b.item for b in ui.find_all(ItemButton)] == shown


def test_each_article_text_is_rendered_once_per_visit(ui, monkeypatch):
    """The page is laid out before its text renders: no article's label renders first at a
    provisional width (Kivy's default 100 px) and then again."""
    ui.tap((10, 10))
    renders = Counter()
    render = Label.texture_update

    def counted(label, *args):
        render(label, *args)
        renders[label, label.text] += 1
    counted.__name__ = "texture_update"  # Kivy's triggers look the method up by name
    monkeypatch.setattr(Label, "texture_update", counted)
    for group, module in (("village", "employment"), ("government", "online"), ("assets", "notices")):
        renders.clear()
        open_module(ui, group, module)
        ui.settle()
        texts = [(w, w.text) for view in ui.find_all(ArticleView) for w in view.walk(restrict=True)
                 if isinstance(w, Label) and w.text]
        assert len(texts) > 3 * len(ui.find_all(ArticleView)), module
        assert [text[:12] for w, text in texts if renders[w, text] != 1] == [], module
