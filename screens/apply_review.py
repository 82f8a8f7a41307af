"""Applying, step 4: everything on one (paged) screen to check, each part with its "Change".

The applicant (name and masked ID number) and the village agent applying for them, every
form field, every material with its page count. "Change" opens that step and comes back
here; "Submit" goes on when the application is complete, and otherwise says what is missing.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from drivers.idcard.identity import masked_id
from kiosk import forms
from kiosk.drafts import Draft
from kiosk.receipts import HANDLED_BY, agent_text
from l10n import N_, translate
from screens.apply_steps import ApplyStep, ApplySteps  # noqa: F401  (ApplySteps: kv rules)
from screens.base import BaseScreen
from screens.widgets import BodyLabel
from screens.widgets.paging import PagedScroll  # noqa: F401  (kv rules)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ReviewRow(BoxLayout):
    """A line to check — "label: value" — and its "Change" button."""

    text = StringProperty("")
    __events__ = ("on_change",)

    def on_change(self) -> None:
        """"Change" was tapped."""


class ApplyReviewScreen(ApplyStep, BaseScreen):
    draft = ObjectProperty(None, allownone=True)
    missing = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.app.bind(lang=lambda *_: self._fill())

    def on_activate(self, **kwargs: object) -> None:
        self.draft = Draft.of(self.app.session.visit)
        self.missing = ""
        self._fill()
        self.ids.paged.home()

    def on_deactivate(self) -> None:
        self.ids.paged.body.clear_widgets()
        self.draft, self.missing = None, ""

    def agent_changed(self) -> None:
        self._fill()

    def submit(self) -> None:
        if self.draft is None:
            return
        if self.draft.submitted is None and not self.draft.ready():
            self.missing = self._missing_text()
            self._fill()
            return
        self.app.go("apply_submit")

    # -- the text ------------------------------------------------------------------------------
    def _fill(self) -> None:
        body = self.ids.paged.body
        body.clear_widgets()
        draft, lang = self.draft, self.app.lang
        if draft is None:
            return
        t = lambda msgid, **p: translate(msgid, lang, **p)  # noqa: E731
        colon = t(N_(": "))
        body.add_widget(_heading(t(N_("Applicant"))))
        who = draft.identity
        self._row(body, f"{who.name}　{masked_id(who.id_number)}" if who else t(N_("No ID card read yet")),
                  lambda: self.app.go("apply_card", code=draft.item.code.basic))
        if draft.agent:
            body.add_widget(BodyLabel(text=f"{t(HANDLED_BY)}{colon}{agent_text(draft.agent, lang)}"))
        body.add_widget(_heading(t(N_("Form"))))
        for f in draft.item.form:
            value = draft.values.get(f.name, "")
            problem = draft.problems.get(f.name)
            text = f"{f.label(lang)}{colon}{forms.shown(f, value) if value else '—'}"
            if problem is not None:
                text += f"\n！ {problem.message(lang)}"
            self._row(body, text, lambda name=f.name: self.app.go("apply_form", field=name, review=True))
        body.add_widget(_heading(t(N_("Materials"))))
        for index, (material, pages) in enumerate(zip(draft.item.materials, draft.pages)):
            if pages:
                state = t(N_("{pages} page(s)"), pages=len(pages))
            elif index in draft.skipped:
                state = t(N_("not needed"))
            else:
                state = "！ " + t(N_("not scanned yet"))
            self._row(body, f"{index + 1}. {material.name}{colon}{state}",
                      lambda i=index: self.app.go("apply_materials", index=i, review=True))

    def _row(self, body, text: str, change) -> None:
        row = ReviewRow(text=text)
        row.bind(on_change=lambda r: change())
        body.add_widget(row)

    def _missing_text(self) -> str:
        draft, lang = self.draft, self.app.lang
        if draft.identity is None:
            return translate(N_("Please put your ID card on the reader first."), lang)
        if draft.problems:
            return translate(N_("Please correct the form where it is marked ！."), lang)
        return translate(N_("Please scan the materials marked ！, or say you do not need to bring them."), lang)


def _heading(text: str) -> BodyLabel:
    return BodyLabel(text="■ " + text, bold=True)
