"""Shared widgets: big buttons, labels that wrap, the top bar, keypads."""
from pathlib import Path

from kivy.lang import Builder

from screens.widgets.common import BigButton, BodyLabel, Notice, TitleLabel, TopBar  # noqa: F401

Builder.load_file(str(Path(__file__).with_name("common.kv")))
