"""Applying, step 1: the applicant's resident ID card on the reader.

The screen shows (and says) where the card goes, with a card sliding onto the reader,
and reads it through the configured SAM reader. The identity goes into the visit, so the
privacy wipe takes it. No card, a card that cannot be read, no reader: each says what
happened and what still works, in words.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.widget import Widget

from drivers.base import DeviceError, DeviceTimeout, DeviceUnavailable
from drivers.idcard.identity import masked_id
from kiosk.catalog.modules import IDCARD
from kiosk.drafts import Draft
from l10n import N_, translate
from screens.apply_steps import ApplyStep, ApplySteps  # noqa: F401  (ApplySteps: kv rules)
from screens.base import BaseScreen

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

READ_TIMEOUT_S = 30.0
READING, READ, NO_CARD, UNREADABLE, NO_READER = "reading", "read", "no_card", "unreadable", "no_reader"

PLACE_CARD = N_("Please put your ID card flat on the reader, on the pad marked 身份证, and leave it there.")
MESSAGES = {
    NO_CARD: N_("No ID card was found on the reader. Put the card flat on the pad marked 身份证, then tap Try again."),
    UNREADABLE: N_("The ID card could not be read. Take it off, put it back flat and hold it still, then tap Try again."),
    NO_READER: N_("The ID card reader is not working just now, so applications cannot be made here at the moment. "
                  "You can still read and print the service guide, or ask the station staff. They have been told."),
}


class CardPicture(Widget):
    """A card sliding down onto the reader pad, over and over (the picture of "put it here")."""

    lift = NumericProperty(1.0)  # 1: the card above the pad, 0: on it

    def play(self) -> None:
        self.stop()
        self._anim = (Animation(lift=0.0, duration=1.2, t="out_quad") + Animation(lift=0.0, duration=0.8)
                      + Animation(lift=1.0, duration=0.01))
        self._anim.repeat = True
        self._anim.start(self)

    def stop(self) -> None:
        Animation.cancel_all(self)
        self.lift = 0.0


class ApplyCardScreen(ApplyStep, BaseScreen):
    state = StringProperty(READING)
    item = ObjectProperty(None, allownone=True)
    holder = StringProperty("")  # "张伟  110105********1230" once read

    def on_kv_post(self, base_widget) -> None:
        self._job = 0

    def on_activate(self, code: str = "", **kwargs: object) -> None:
        visit = self.app.session.start()
        item = self.app.terminal.catalog.get(code)
        draft = Draft.of(visit)
        if draft is None or draft.item is not item or draft.submitted is not None:
            draft = Draft(visit, item, agent=self.app.staff_badge or "")
        self.item = item
        if draft.identity is not None:
            self._show_holder(draft.identity)
        else:
            self.read()

    def on_deactivate(self) -> None:
        self._job += 1  # a read still running is not shown
        self.ids.picture.stop()
        self.item, self.holder, self.state = None, "", READING

    # -- reading ------------------------------------------------------------------------
    def read(self) -> None:
        """Start reading the card on the reader (a new one, when "read another card")."""
        reader = self.app.terminal.device_of_kind(IDCARD)
        self._job += 1
        if reader is None:
            self.state = NO_READER
            self.ids.picture.stop()
            return
        self.state, self.holder = READING, ""
        self.ids.picture.play()
        self.app.terminal.speaker.say(translate(PLACE_CARD, self.app.lang), self.app.lang)
        job = self._job
        future = reader.read_identity(timeout=READ_TIMEOUT_S)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda dt: self._read(f, job)))

    def read_again(self) -> None:
        draft = self._draft()
        if draft is not None:
            draft.forget_identity()
        self.read()

    def _read(self, future, job: int) -> None:
        if job != self._job:
            return
        self.ids.picture.stop()
        error = future.exception()
        if error is None:
            draft = self._draft()
            if draft is not None:
                draft.take_identity(future.result())
                self._show_holder(draft.identity)
            return
        log.info("reading the ID card: %s", error)
        if isinstance(error, DeviceTimeout) and error.code == "idcard.no_card":
            self.state = NO_CARD
        elif isinstance(error, DeviceUnavailable) or not isinstance(error, DeviceError):
            self.state = NO_READER
        else:
            self.state = UNREADABLE

    def _show_holder(self, identity) -> None:
        self.holder = f"{identity.name}　{masked_id(identity.id_number)}"
        self.state = READ

    def _draft(self) -> Draft | None:
        return Draft.of(self.app.session.visit)

    # -- the way on -------------------------------------------------------------------------
    def proceed(self) -> None:
        if self.state == READ:
            self.app.go("apply_form")

    @staticmethod
    def message(state: str, lang: str) -> str:
        if state == READING:
            return translate(PLACE_CARD, lang)
        if state == READ:
            return translate(N_("Your ID card has been read. Is this you?"), lang)
        return "！ " + translate(MESSAGES[state], lang)
