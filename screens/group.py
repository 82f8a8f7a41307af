"""One group's modules, each a large button; a module is the second tap from home."""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.catalog.modules import GROUPS, modules_in
from screens.base import BaseScreen
from screens.widgets import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

# Modules with a screen of their own; the others use the generic module screen.
OWN_SCREENS = {"guides": "guides", "cases": "cases"}


class GroupScreen(BaseScreen):
    group_id = StringProperty("government")
    group_title = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._built: dict[str, list[ModuleButton]] = {}

    def on_activate(self, group: str = "government", **kwargs: object) -> None:
        self.group_id = group
        self.group_title = next(g.title for g in GROUPS if g.id == group)
        grid = self.ids.modules
        grid.clear_widgets()
        for button in self._buttons(group):
            grid.add_widget(button)

    def _buttons(self, group: str) -> list[ModuleButton]:
        """The group's module buttons, built once: coming back draws them at once."""
        if group not in self._built:
            self._built[group] = [self._button(mod, group) for mod in modules_in(group)]
        return self._built[group]

    def _button(self, mod, group: str) -> ModuleButton:
        button = ModuleButton(module_id=mod.id, msgid=mod.title, group_id=group, later=not mod.offered)
        button.bind(on_release=lambda b: self.open(b.module_id))
        return button

    def open(self, module_id: str) -> None:
        screen = OWN_SCREENS.get(module_id)
        if screen:
            self.app.go(screen)
        else:
            self.app.go("module", module=module_id)


class ModuleButton(BigButton):
    module_id = StringProperty()
    msgid = StringProperty()
    group_id = StringProperty()
    later = BooleanProperty(False)
