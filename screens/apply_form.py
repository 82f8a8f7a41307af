"""Applying, step 2: the item's form, prefilled from the ID card and checked field by field.

The fields are big rows on the left (a page at a time); the chosen one is filled on the
right: the numeric keypad for numbers, phones, dates and ID numbers (with an X key), the
pinyin keyboard with a row of digits for text (a house number), big buttons for choices. A
value that cannot be taken is said in words under its field ("！ ..."), never by colour
alone. What the ID card says is shown, not typed over.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk import forms
from kiosk.drafts import Draft
from l10n import N_, translate
from screens.apply_steps import ApplyStep, ApplySteps  # noqa: F401  (ApplySteps: kv rules)
from screens.base import BaseScreen
from screens.widgets import BigButton
from screens.widgets.keypad import Keypad
from screens.widgets.paging import PagedScroll  # noqa: F401  (kv rules)
from screens.widgets.pinyin_keyboard import PinyinKeyboard

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

KEYPAD_LENGTH = {"id_number": 18, "phone": 13, "date": 8, "number": forms.MAX_NUMBER}
KEYPAD_HINTS = {
    "id_number": N_("18 characters; the last may be X"),
    "phone": N_("Mobile: 11 digits"),
    "date": N_("Year month day, e.g. 20260315"),
    "number": N_("Digits only"),
}
FROM_CARD = N_("From your ID card")
NOT_FILLED = N_("Not filled in yet — tap to fill in")


class FieldRow(ButtonBehavior, BoxLayout):
    """One form field: its label, the value (or what is missing) and, under it, its problem."""

    name = StringProperty("")
    label = StringProperty("")
    value = StringProperty("")
    problem = StringProperty("")
    note = StringProperty("")
    selected = BooleanProperty(False)


class FieldChoice(BigButton):
    value = StringProperty("")
    chosen = BooleanProperty(False)


class ApplyFormScreen(ApplyStep, BaseScreen):
    draft = ObjectProperty(None, allownone=True)
    current = StringProperty("")       # the field being filled
    kind = StringProperty("")          # "keypad", "pinyin", "choices" or "" (a card field)
    reviewing = BooleanProperty(False)  # came from the check step: "Done" goes back there
    open_problems = NumericProperty(0)  # fields with a problem after "Next" was tapped
    typed = StringProperty("")          # what the pinyin keyboard made so far, letters included

    def on_kv_post(self, base_widget) -> None:
        self._rows: dict[str, FieldRow] = {}
        self._keypad = Keypad()
        self._keypad.bind(on_submit=lambda k, value: self.take(value))
        self._pinyin = PinyinKeyboard(digits=True, max_length=forms.MAX_TEXT)  # house numbers, rooms
        self.ids.fields.body.bind(height=self._bring_into_view)
        self._pinyin.bind(on_confirm=lambda k: self.take(k.text),
                          text=self._show_typed, letters=self._show_typed)
        self.app.bind(lang=lambda *_: self._refresh_rows())

    def on_activate(self, field: str = "", review: bool = False, **kwargs: object) -> None:
        self.draft = Draft.of(self.app.session.visit)
        self.reviewing, self.open_problems = review, 0
        body = self.ids.fields.body
        body.clear_widgets()
        self._rows = {}
        if self.draft is None:
            return
        for f in self.draft.item.form:
            row = FieldRow(name=f.name)
            row.bind(on_release=lambda r: self.select(r.name))
            self._rows[f.name] = row
            body.add_widget(row)
        self._refresh_rows()
        self.ids.fields.home()
        self.select(field or self._next_to_fill() or self.draft.item.form[0].name)

    def on_deactivate(self) -> None:
        self.ids.fields.body.clear_widgets()
        self.ids.editor.clear_widgets()
        self._rows, self.draft, self.current, self.kind = {}, None, "", ""
        self._keypad.clear()
        self._pinyin.clear()

    # -- filling one field -------------------------------------------------------------------
    def select(self, name: str) -> None:
        """Fill field ``name`` now: its keyboard on the right, its row marked."""
        if self.draft is None:
            return
        f = self.draft.field(name)
        self.current = name
        for row in self._rows.values():
            row.selected = row.name == name
        Clock.schedule_once(self._bring_into_view, -1)  # once laid out, before it is drawn
        editor = self.ids.editor
        editor.clear_widgets()
        value = self.draft.values.get(name, "")
        self.kind = "" if self.draft.locked(f) else forms.keyboard(f)
        if self.kind == "keypad":
            self._keypad.max_length = KEYPAD_LENGTH.get(f.type, forms.MAX_NUMBER)
            self._keypad.extra = "X" if f.type == "id_number" else ""
            self._keypad.hint = translate(KEYPAD_HINTS.get(f.type, ""), self.app.lang)
            self._keypad.value = value.replace("-", "") if f.type == "date" else value
            editor.add_widget(self._keypad)
        elif self.kind == "pinyin":
            self._pinyin.set_state(text=value)
            self._show_typed(self._pinyin, value)
            editor.add_widget(self._pinyin)
        elif self.kind == "choices":
            for choice in f.choices:
                button = FieldChoice(value=choice, text=choice, chosen=choice == value)
                button.bind(on_release=lambda b: self.take(b.value))
                editor.add_widget(button)

    def _bring_into_view(self, *_: object) -> None:
        """Turn the field list so the current field's row is seen whole, also as the rows grow to
        their heights (a row already seen stays where it is)."""
        row, paged = self._rows.get(self.current), self.ids.fields
        if row is None:
            return
        rows = paged.body.children[::-1]
        above = rows[:rows.index(row)]
        top = sum(w.height for w in above) + paged.body.spacing * len(above)  # from the top of the list
        if not paged.position <= top <= top + row.height <= paged.position + paged.ids.scroll.height:
            paged.home(max(0.0, top - self.app.style.pad))

    def take(self, raw: str) -> None:
        """The person confirmed ``raw`` for the current field: keep it; on to the next when it is right."""
        if self.draft is None or not self.current:
            return
        problem = self.draft.set(self.current, raw)
        if self.open_problems:
            self.open_problems = len(self.draft.problems)
        self._refresh_rows()
        if problem is None:
            following = self._next_to_fill(after=self.current)
            if following:
                self.select(following)
            elif self.kind == "choices":
                self.select(self.current)  # show the choice made

    def _next_to_fill(self, after: str = "") -> str:
        """The next field (after ``after``, wrapping) that is empty-and-required or has a problem."""
        names = [f.name for f in self.draft.item.form]
        start = names.index(after) + 1 if after else 0
        for name in names[start:] + names[:start]:
            f = self.draft.field(name)
            if name != after and (name in self.draft.problems or (f.required and not self.draft.values.get(name))):
                return name
        return ""

    # -- the way on ---------------------------------------------------------------------------
    def proceed(self) -> None:
        """Next (or back to the check): only when every field can be taken."""
        if self.draft is None:
            return
        ok = self.draft.check_form()
        self.open_problems = len(self.draft.problems)
        self._refresh_rows()
        if not ok:
            self.select(next(f.name for f in self.draft.item.form if f.name in self.draft.problems))
        elif self.reviewing:
            self.app.go_back()
        else:
            self.app.go("apply_materials")

    # -- showing it -------------------------------------------------------------------------------
    def _refresh_rows(self) -> None:
        if self.draft is None:
            return
        lang = self.app.lang
        for f in self.draft.item.form:
            row = self._rows.get(f.name)
            if row is None:
                continue
            value = self.draft.values.get(f.name, "")
            problem = self.draft.problems.get(f.name)
            row.label = f.label(lang) + ("" if f.required else translate(N_(" (optional)"), lang))
            row.value = forms.shown(f, value) if value else translate(NOT_FILLED, lang)
            row.problem = "！ " + problem.message(lang) if problem else ""
            row.note = translate(FROM_CARD, lang) if self.draft.locked(f) else ""

    def editor_title(self, lang: str, current: str, kind: str) -> str:
        if self.draft is None or not current:
            return ""
        label = self.draft.field(current).label(lang)
        if not kind:
            return translate(N_("{field}: this comes from your ID card and is not typed here."), lang, field=label)
        if kind == "choices":
            return translate(N_("{field}: tap your answer."), lang, field=label)
        return translate(N_("{field}: type it, then tap OK."), lang, field=label) if kind == "keypad" else \
            translate(N_("{field}: type the pinyin, choose the characters, then tap Confirm."), lang, field=label)

    def _show_typed(self, keyboard, _value) -> None:
        self.typed = f"{keyboard.text}{keyboard.letters}▏"

    @staticmethod
    def problems_text(lang: str, count: int) -> str:
        if not count:
            return ""
        return translate(N_("Please correct the fields marked ！ ({count}) before going on."), lang, count=count)
