"""Home: the six groups of the 26 modules; a group's modules are one more tap away.

Service guides, the most used module, has its own large button here too.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk.catalog.modules import GROUPS, modules_in
from screens.base import BaseScreen
from screens.widgets import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HomeScreen(BaseScreen):
    def on_kv_post(self, base_widget) -> None:
        grid = self.ids.groups
        for group in GROUPS:
            button = GroupButton(group_id=group.id, msgid=group.title, count=len(modules_in(group.id)))
            button.bind(on_release=lambda b: self.app.go("group", group=b.group_id))
            grid.add_widget(button)


class GroupButton(BigButton):
    group_id = StringProperty()
    msgid = StringProperty()
    count = NumericProperty()
