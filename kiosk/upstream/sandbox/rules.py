"""How a sandbox case moves: its fate at submission, its history over time, its promised date.

Deterministic rules (docs/upstream-api.md, "The sandbox"):

- an applicant ID number that fails the GB 11643 check digit: **refused** — rejected one
  step after submission (不予受理);
- any form value containing ``驳回``: **denied** — rejected after review, three steps after
  submission (不予批准);
- otherwise **granted** — submitted → accepted → processing → completed, one step each.

A step lasts ``pace`` seconds (the server's ``--pace``, fixed per case at submission). An
on-the-spot item (catalog ``on_the_spot``) takes every step at once. Nothing is stored per
step: the history is a function of the submission time, the pace and the clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from drivers.idcard.identity import is_valid_id_number
from kiosk.cases import add_working_days

GRANTED, REFUSED, DENIED = "granted", "refused", "denied"
DENY_MARKER = "驳回"
REFUSED_REASON = "申请人公民身份号码校验未通过，不予受理。请核对身份证件后重新申请。"
DENIED_REASON = "经审核，申请人不符合该事项的申报条件，不予批准。如有异议，可在收到本通知之日起60日内申请行政复议。"
NOTES = {
    "submitted": "申请已提交，等待受理",
    "accepted": "已受理",
    "processing": "审核办理中",
    "completed": "已办结，可凭核验码打印办理结果",
}
STEPS = {
    GRANTED: ("submitted", "accepted", "processing", "completed"),
    REFUSED: ("submitted", "rejected"),
    DENIED: ("submitted", "accepted", "processing", "rejected"),
}
REASONS = {REFUSED: REFUSED_REASON, DENIED: DENIED_REASON}


def fate(id_number: str, form: dict[str, str]) -> str:
    """What will become of a case submitted with this ID number and form."""
    if not is_valid_id_number(id_number):
        return REFUSED
    if any(DENY_MARKER in value for value in form.values()):
        return DENIED
    return GRANTED


@dataclass(frozen=True)
class Step:
    at: float  # seconds since the epoch
    status: str
    note: str


def history(case_fate: str, submitted_at: float, pace: float, now: float) -> list[Step]:
    """The steps taken by ``now``; the first (submitted) always."""
    steps = []
    for n, status in enumerate(STEPS[case_fate]):
        at = submitted_at + n * pace
        if n and at > now:
            break
        steps.append(Step(at, status, REASONS[case_fate] if status == "rejected" else NOTES[status]))
    return steps


def promised_date(submitted: date, time_limit_days: int) -> date:
    """The promised date: ``time_limit_days`` working days after submission (weekends skipped, no holidays)."""
    return add_working_days(submitted, time_limit_days)


def iso(seconds: float) -> str:
    """Local time with its UTC offset, to the second (the API's time format)."""
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def local_day(seconds: float) -> date:
    return datetime.fromtimestamp(seconds).astimezone().date()
