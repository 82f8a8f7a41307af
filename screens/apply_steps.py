"""What every apply screen shares: the header (the item's name and where the person is in
the five steps) and how a step takes the ID card and the agent's staff badge.

The current step is marked with "▶", the steps done with "✓": never colour alone.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.drafts import Draft
from l10n import N_, translate

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

STEPS = (N_("ID card"), N_("Form"), N_("Materials"), N_("Check"), N_("Submit"))


class ApplyStep:
    """Mixed into each apply screen (before ``BaseScreen``).

    Taking the ID card off the reader is expected while applying — the person takes the card
    back once it was read, or changes it for another on the first step — so it does not ask
    "still there?". A village agent's staff badge put on the reader while applying marks the
    application as made by the agent for the villager (``Draft.agent``) instead of opening
    the agent's queue screen; ``agent_changed()`` then shows it.
    """

    card_may_leave = True

    def take_staff_badge(self, uid: str | None) -> bool:
        draft = Draft.of(self.app.session.visit)
        if draft is None or draft.submitted is not None:
            return False
        if uid is not None:
            draft.agent = uid
            self.agent_changed()
        return True

    def agent_changed(self) -> None:
        """The application's agent was recorded."""


class ApplySteps(BoxLayout):
    """``step`` from 1; ``item_name`` over the steps."""

    step = NumericProperty(1)
    item_name = StringProperty("")

    @staticmethod
    def steps_text(step: int, lang: str) -> str:
        def mark(n: int) -> str:
            return "✓ " if n < step else "▶ " if n == step else ""
        return "　".join(f"{mark(n)}{n}.{translate(title, lang)}" for n, title in enumerate(STEPS, 1))
