"""好差评: rate the service just given, in five levels; never forced ("Skip" is always there).

Steps: the level (stars and words) → the four national follow-up questions → for a poor
rating, what went wrong (choices and an optional comment on the pinyin keyboard) and an
optional call-back (phone on the keypad), which files a complaint → thanks. Nothing that
names the evaluator goes with it. Stored and forwarded by ``terminal.cases``.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty

from kiosk.evaluation import FOLLOWUP, LEVELS, PROBLEMS, is_poor, level as level_of, make_evaluation
from kiosk.forms import phone_number
from l10n import N_, translate
from screens.background import Background
from screens.base import BaseScreen
from screens.widgets import BigButton
from screens.widgets.keypad import Keypad  # noqa: F401  (kv rules)
from screens.widgets.pinyin_keyboard import PinyinKeyboard  # noqa: F401  (kv rules)

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

LEVEL, FOLLOW, PROBLEM, CALLBACK, SENDING, THANKS, FAILED = (
    "level", "followup", "problems", "callback", "sending", "thanks", "failed")


class LevelButton(BigButton):
    level = StringProperty("")
    title = StringProperty("")   # msgid
    symbol = StringProperty("")
    chosen = BooleanProperty(False)
    compact = BooleanProperty(False)


class ProblemButton(BigButton):
    msgid = StringProperty("")
    chosen = BooleanProperty(False)


class EvaluationScreen(BaseScreen):
    step = StringProperty(LEVEL)
    case = StringProperty("")        # the case number or reference it is tied to ("" for a guide or ticket)
    level = StringProperty("")
    followup = DictProperty()
    problems = ListProperty()
    phone_error = BooleanProperty(False)
    complaint = BooleanProperty(False)  # a call-back was asked for

    def on_kv_post(self, base_widget) -> None:
        self._work = Background()
        for lv in LEVELS:
            button = LevelButton(level=lv.key, title=lv.title, symbol=lv.symbol)
            button.bind(on_release=lambda b: self.choose_level(b.level))
            self.ids.levels.add_widget(button)
        for key, msgid in FOLLOWUP:
            row = self.ids[f"q_{key}"]
            for lv in LEVELS:
                button = LevelButton(level=lv.key, title=lv.title, symbol=lv.symbol, compact=True)
                button.bind(on_release=lambda b, key=key: self.answer(key, b.level))
                row.add_widget(button)
        for msgid in PROBLEMS:
            button = ProblemButton(msgid=msgid)
            button.bind(on_release=lambda b: self.toggle_problem(b.msgid))
            self.ids.problem_choices.add_widget(button)

    def on_activate(self, case: str = "", service: str = "", **kwargs: object) -> None:
        self._reset()
        self.case = case

    def on_deactivate(self) -> None:
        self._work.cancel()
        self._reset()

    def _reset(self) -> None:
        self.step, self.level, self.case = LEVEL, "", ""
        self.followup, self.problems, self.phone_error, self.complaint = {}, [], False, False
        self.ids.comment.clear()
        self.ids.phone.clear()
        self._mark()

    # -- steps ---------------------------------------------------------------------------
    def choose_level(self, key: str) -> None:
        self.level = key
        self.step = FOLLOW
        self._mark()

    def answer(self, question: str, key: str) -> None:
        self.followup = {**self.followup, question: key}
        self._mark()

    def after_followup(self) -> None:
        if is_poor(self.level):
            self.step = PROBLEM
        else:
            self.send()

    def toggle_problem(self, msgid: str) -> None:
        self.problems = [p for p in self.problems if p != msgid] if msgid in self.problems else [*self.problems, msgid]
        self._mark()

    def ask_callback(self) -> None:
        self.step = CALLBACK

    def phone_entered(self, number: str) -> None:
        if not phone_number(number):
            self.phone_error = True
            return
        self.phone_error = False
        self.send(number)

    def skip(self) -> None:
        """Not now: nothing is stored."""
        self.app.go_back()

    def send(self, phone: str = "") -> None:
        try:
            evaluation = make_evaluation(self.case, self.level, dict(self.followup), tuple(self.problems),
                                         self.ids.comment.text, phone)
        except (ValueError, ImportError) as exc:
            log.error("evaluation not made: %s", exc)
            self.step = FAILED
            return
        self.complaint = bool(phone)
        self.step = SENDING
        self._work.run(self._store, evaluation, done=self._stored)

    def _store(self, evaluation) -> None:
        cases = self.app.terminal.cases
        cases.evaluate(evaluation)
        if evaluation.callback_phone:
            cases.complain(evaluation)

    def _stored(self, _result, error) -> None:
        self.step = FAILED if error is not None else THANKS  # terminal.cases counts the evaluation

    def _mark(self) -> None:
        """Show what was chosen with a tick (colour is never the only sign)."""
        for button in self.ids.levels.children:
            button.chosen = button.level == self.level
        for key, _ in FOLLOWUP:
            for button in self.ids[f"q_{key}"].children:
                if isinstance(button, LevelButton):
                    button.chosen = self.followup.get(key) == button.level
        for button in self.ids.problem_choices.children:
            button.chosen = button.msgid in self.problems

    # -- texts ---------------------------------------------------------------------------
    def heading(self, lang: str, step: str) -> str:
        return translate({
            LEVEL: N_("How satisfied are you with this service?"),
            FOLLOW: N_("A few more questions (answer those you like)"),
            PROBLEM: N_("We are sorry. What went wrong?"),
            CALLBACK: N_("Your phone number, so that the station can call you back"),
            SENDING: N_("Saving your evaluation…"),
            THANKS: N_("Thank you for your evaluation"),
            FAILED: N_("Your evaluation could not be saved"),
        }[step], lang)

    def note(self, lang: str, step: str, case: str, level: str, complaint: bool, phone_error: bool) -> str:
        if step == LEVEL:
            text = translate(N_("Your evaluation does not carry your name or ID number. You may skip it."), lang)
            if case:
                text += "\n" + translate(N_("For case {case}"), lang, case=case)
            return text
        if step == FOLLOW:
            return translate(N_("You chose: {stars} {level}"), lang, stars=level_of(level).symbol,
                             level=translate(level_of(level).title, lang)) if level else ""
        if step == CALLBACK:
            if phone_error:
                return translate(N_("That is not a phone number. Please check it: a mobile number has 11 digits."), lang)
            return translate(N_("The number is only used to call you back about this complaint."), lang)
        if step == THANKS:
            text = translate(N_("It helps the station serve everyone better."), lang)
            if complaint:
                text += "\n" + translate(N_("Your complaint has been filed. The station will call you back within "
                                            "three working days."), lang)
            return text
        if step == FAILED:
            return translate(N_("Please tell the station staff; nothing else is needed from you."), lang)
        return ""
