"""好差评: the five levels, the fixed follow-up questions and what a poor rating asks.

After 国办发〔2019〕51号 and GB/T 39734/39735: one evaluation per service, voluntary, the
evaluator not named (no name or ID number goes with it), five levels from 非常满意 ★★★★★
to 非常不满意 ★, then the national offline follow-up questions, unchanged: overall
satisfaction, efficiency, service level, attitude. A poor rating (不满意, 非常不满意) asks
what went wrong and may ask for a call-back, which files a complaint.

What went wrong is sent in Chinese, whatever language the screen showed.
"""
from __future__ import annotations

from dataclasses import dataclass

from fleet.protocol import EVALUATION_LEVELS
from kiosk.forms import phone_number
from l10n import N_, translate

PLATFORM_LANGUAGE = "zh_CN"


@dataclass(frozen=True)
class Level:
    key: str     # one of fleet.protocol.EVALUATION_LEVELS
    title: str   # msgid
    stars: int

    @property
    def symbol(self) -> str:
        return "★" * self.stars + "☆" * (5 - self.stars)


LEVELS = (
    Level("very_satisfied", N_("Very satisfied"), 5),
    Level("satisfied", N_("Satisfied"), 4),
    Level("basically_satisfied", N_("Basically satisfied"), 3),
    Level("dissatisfied", N_("Dissatisfied"), 2),
    Level("very_dissatisfied", N_("Very dissatisfied"), 1),
)
assert tuple(level.key for level in LEVELS) == EVALUATION_LEVELS
POOR = frozenset({"dissatisfied", "very_dissatisfied"})

FOLLOWUP = (  # the national offline follow-up questions, in their order
    ("overall", N_("Overall satisfaction")),
    ("efficiency", N_("Efficiency")),
    ("service", N_("Service level")),
    ("attitude", N_("Attitude")),
)

PROBLEMS = (
    N_("It took too long"),
    N_("Too many materials were asked for"),
    N_("I had to come back more than once"),
    N_("The staff's attitude was poor"),
    N_("The terminal was hard to use"),
    N_("Something else"),
)

def level(key: str) -> Level:
    return next(lv for lv in LEVELS if lv.key == key)


def is_poor(key: str) -> bool:
    return key in POOR


def problems_for_platform(chosen) -> tuple[str, ...]:
    """The chosen problems (msgids, in the order offered) in Chinese."""
    return tuple(translate(p, PLATFORM_LANGUAGE) for p in PROBLEMS if p in chosen)


def make_evaluation(case: str, level_key: str, followup: dict[str, str], problems=(), comment: str = "",
                    callback_phone: str = ""):
    """The ``kiosk.cases.Evaluation`` to store; ValueError on a level or phone that is not valid."""
    from kiosk.cases import Evaluation
    if level_key not in EVALUATION_LEVELS or any(v not in EVALUATION_LEVELS for v in followup.values()):
        raise ValueError(f"not an evaluation level: {level_key!r} / {followup!r}")
    if set(followup) - {key for key, _ in FOLLOWUP}:
        raise ValueError(f"not a follow-up question: {sorted(set(followup))!r}")
    phone = phone_number(callback_phone)
    if callback_phone and not phone:
        raise ValueError("not a phone number")
    poor = is_poor(level_key)
    return Evaluation(case=case, level=level_key, followup=dict(followup),
                      problems=problems_for_platform(problems) if poor else (),
                      comment=comment.strip() if poor else "", callback_phone=phone if poor else "")
