"""Appointments (预约): a time at a window, or the agent's visit at home for the old and infirm.

A window time comes from the platform's free slots (``terminal.cases.appointment_slots``);
when the platform cannot be reached the screen says so and offers a queue number or a
home visit. A home visit takes the name (and address) from the ID card, a phone number
on the keypad and what it is for (the window). Both are kept and forwarded by
``terminal.cases.book`` through the outbox.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import DictProperty, ObjectProperty, StringProperty

from kiosk.catalog.items import VILLAGE
from kiosk.forms import phone_number
from l10n import N_, translate
from screens.background import Background
from screens.base import BaseScreen
from screens.idcard import read_identity
from screens.widgets import BigButton
from screens.widgets.keypad import Keypad  # noqa: F401  (kv rules)

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

DAYS_AHEAD = 5
KIND, WINDOW, SLOTS, OFFLINE, CARD, PHONE, PURPOSE, SENDING, BOOKED, FAILED = (
    "kind", "window", "slots", "offline", "card", "phone", "purpose", "sending", "booked", "failed")
WINDOW_SLOT, HOME_VISIT = "window", "home_visit"


class ChoiceButton(BigButton):
    value = ObjectProperty(None)


def free_slots(cases, window: str, first: date, days: int = DAYS_AHEAD) -> list[dict]:
    """The platform's slots with a place left at ``window`` over the next ``days`` days (raises when
    it cannot be asked)."""
    slots: list[dict] = []
    for offset in range(days):
        slots += [s for s in cases.appointment_slots(window, (first + timedelta(days=offset)).isoformat())
                  if s["free"] > 0]
    return slots


def slot_text(slot: dict, lang: str) -> str:
    start = datetime.fromisoformat(slot["start"])
    return translate(N_("{month}/{day} at {time}"), lang, month=start.month, day=start.day,
                     time=f"{start.hour}:{start.minute:02d}")


class AppointmentScreen(BaseScreen):
    step = StringProperty(KIND)
    kind = StringProperty("")
    window = StringProperty("")
    ref = StringProperty("")
    details = DictProperty()
    error = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self._work = Background()

    def on_activate(self, **kwargs: object) -> None:
        self._work.cancel()
        self.step, self.kind, self.window, self.ref, self.details, self.error = KIND, "", "", "", {}, ""
        self.ids.phone.clear()
        self.ids.choices.clear_widgets()

    def on_deactivate(self) -> None:
        self.on_activate()

    # -- steps ---------------------------------------------------------------------------
    def choose_kind(self, kind: str) -> None:
        self.kind = kind
        if kind == WINDOW_SLOT:
            self._show(WINDOW, [(w, translate(N_("{window} window"), self.app.lang, window=w))
                                for w in self.app.terminal.catalog.windows(VILLAGE)], self.choose_window)
        else:
            self.step, self.error = CARD, ""
            if not read_identity(self.app, self._work, self._card_read):
                self.step = FAILED

    def choose_window(self, window: str) -> None:
        self.window = window
        if self.kind == HOME_VISIT:
            self.details = {**self.details, "window": window}
            return self._book()
        self.step = SENDING
        terminal = self.app.terminal  # its cases open on first use: in the worker
        self._work.run(lambda: free_slots(terminal.cases, window, date.today() + timedelta(days=1)),
                       done=self._slots)

    def _slots(self, slots, error) -> None:
        if error is not None:
            self.step = OFFLINE
            self.ids.choices.clear_widgets()
            return
        self._show(SLOTS, [(s, slot_text(s, self.app.lang)) for s in slots], self.choose_slot)

    def choose_slot(self, slot: dict) -> None:
        self.details = {"kind": WINDOW_SLOT, "window": self.window, "slot": dict(slot)}
        self._book()

    def _card_read(self, identity, error) -> None:
        if error is not None:
            self.step = FAILED
            return
        self.details = {"kind": HOME_VISIT, "name": identity.name, "address": identity.address}
        self.step = PHONE

    def phone_entered(self, number: str) -> None:
        if not phone_number(number):
            self.error = translate(N_("That is not a phone number. Please check it: a mobile number has 11 digits."),
                                   self.app.lang)
            return
        self.error = ""
        self.details = {**self.details, "phone": number}
        self._show(PURPOSE, [(w, translate(N_("{window} window"), self.app.lang, window=w))
                             for w in self.app.terminal.catalog.windows(VILLAGE)], self.choose_window)

    def _book(self) -> None:
        self.step = SENDING
        self.ids.choices.clear_widgets()
        terminal, details = self.app.terminal, dict(self.details)
        self._work.run(lambda: terminal.cases.book(details), done=self._booked)

    def _booked(self, ref, error) -> None:
        self.ref = ref or ""
        self.step = FAILED if error is not None else BOOKED

    def _show(self, step: str, choices, action) -> None:
        self.step = step
        box = self.ids.choices
        box.clear_widgets()
        for value, text in choices:
            button = ChoiceButton(value=value, text=text)
            button.bind(on_release=lambda b: action(b.value))
            box.add_widget(button)
        self._to_top()

    def _to_top(self) -> None:
        """A new list starts at its top, at rest (the tap that asked for it may have set it moving)."""
        scroll = self.ids.scroll
        scroll.effect_y.velocity = 0
        scroll.scroll_y = 1

    # -- texts ---------------------------------------------------------------------------
    def heading(self, lang: str, step: str) -> str:
        return translate({
            KIND: N_("Make an appointment"), WINDOW: N_("Which window?"), SLOTS: N_("Choose a time"),
            OFFLINE: N_("Times cannot be booked just now"), CARD: N_("Home visit: put your ID card on the reader"),
            PHONE: N_("Home visit: your phone number"), PURPOSE: N_("Home visit: what is it for?"),
            SENDING: N_("Please wait…"), BOOKED: N_("Your appointment is booked"),
            FAILED: N_("The appointment could not be made"),
        }[step], lang)

    def note(self, lang: str, step: str, details, ref: str, error: str) -> str:
        if error:
            return error
        if step == KIND:
            return translate(N_("Come at a booked time, or, if you cannot come, the village agent visits you at "
                                "home."), lang)
        if step == SLOTS and not self.ids.choices.children:
            return translate(N_("No free times in the next days. Please take a queue number instead."), lang)
        if step == OFFLINE:
            return translate(N_("The government platform cannot be reached, so no times can be booked. You can take "
                                "a queue number now, or ask the agent to visit you at home."), lang)
        if step == PHONE:
            return translate(N_("Name: {name}\nAddress: {address}"), lang, name=details.get("name", ""),
                             address=details.get("address", ""))
        if step == BOOKED:
            return translate(N_("Your reference: {ref}. The station will confirm by phone or at the window."), lang,
                             ref=ref)
        if step == FAILED:
            return translate(N_("Please ask the station staff."), lang)
        return ""
