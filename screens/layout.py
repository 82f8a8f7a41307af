"""Laying a widget tree out at once, so the text just built for it is rendered only once.

Kivy lays widgets out just before the next frame, after new labels have rendered their
text at the default width of 100 px (a tall, narrow texture) — and then renders it again at
the width the layout gives. A screen change or a list page filled with new widgets calls
``lay_out_now`` first: the layouts set every width top down, and each label renders once.
"""
from __future__ import annotations

from kivy.uix.layout import Layout
from kivy.uix.scrollview import ScrollView


def lay_out_now(widget) -> None:
    """Size ``widget``'s tree top down now (heights that depend on text follow as usual)."""
    for child in widget.walk(restrict=True):
        if isinstance(child, Layout):
            child.do_layout()
        elif isinstance(child, ScrollView):
            child.update_from_scroll()


def set_children(parent, widgets) -> None:
    """Make ``widgets`` the children of ``parent``, top to bottom; nothing moves if they are.

    For screens that reuse their widgets from visit to visit instead of building new ones.
    """
    widgets = list(widgets)
    if list(reversed(parent.children)) == widgets:
        return
    parent.clear_widgets()
    for widget in widgets:
        parent.add_widget(widget)
