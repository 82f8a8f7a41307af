"""The acceptance notice (受理通知书) of a submitted application, as printed on the receipt printer.

It says what was applied for and by whom (the ID number masked), the case number — or
the terminal's reference and that the case waits at the terminal for the line — the
materials with their page counts, the promised date, a QR code to follow the case, the
station and the time. The same lines are what the screen shows when nothing can print.
"""
from __future__ import annotations

from datetime import datetime

from drivers.printer.receipt import Align, Receipt, Text
from kiosk.cases import Submitted
from kiosk.printing import PAPER_COLUMNS, qr_footer, wrap
from l10n import N_, translate

TITLE = N_("Acceptance notice")
HANDLED_BY = N_("Applied for you by")


def agent_text(agent: str, language: str = "zh_CN") -> str:
    """The village agent who applied for the villager, by the staff card on the reader."""
    return translate(N_("the village agent (staff card {card})"), language, card=agent)


def progress_url(submitted: Submitted, pattern: str) -> str:
    """What the QR code carries: ``{number}`` in ``pattern`` becomes the case number (or the
    terminal's reference while queued); an empty pattern gives the number alone."""
    return pattern.replace("{number}", submitted.progress_ref) if pattern else submitted.progress_ref


def number_line(submitted: Submitted, language: str = "zh_CN") -> tuple[str, str]:
    """(label, number): the platform's case number, or the terminal's reference while queued."""
    if submitted.delivered:
        return translate(N_("Case number"), language), submitted.case_no
    return translate(N_("Reference"), language), submitted.ref


def notice_lines(submitted: Submitted, language: str = "zh_CN") -> list[tuple[str, str]]:
    """The notice under its number as (label, text) lines, in printed order; the label may be empty."""
    t = lambda msgid, **p: translate(msgid, language, **p)  # noqa: E731
    lines = []
    if not submitted.delivered:
        lines.append(("", t(N_("Queued at this terminal: it will be sent when the line is back. "
                               "Keep this notice; the reference finds your case."))))
    lines.append((t(N_("Item")), submitted.item_name))
    lines += [(t(N_("Applicant")), submitted.applicant_name), (t(N_("ID number")), submitted.masked_id)]
    if submitted.agent:
        lines.append((t(HANDLED_BY), agent_text(submitted.agent, language)))
    for n, (name, pages) in enumerate(submitted.materials, 1):
        lines.append((t(N_("Material {n}"), n=n), t(N_("{name}: {pages} page(s)"), name=name, pages=pages)))
    if submitted.status == "completed":
        lines.append((t(N_("Result")), t(N_("Completed on the spot"))))
    else:
        day = submitted.promised_date
        lines.append((t(N_("Promised by")), t(N_("{day}/{month}/{year}"), day=day.day, month=day.month, year=day.year)))
    lines.append((t(N_("Submitted")), submitted.submitted_at.strftime("%Y-%m-%d %H:%M")))
    return lines


def notice_receipt(submitted: Submitted, language: str = "zh_CN", *, station: str = "", url_pattern: str = "",
                   printed_at: datetime | None = None, paper_mm: int = 58) -> Receipt:
    """The printed acceptance notice; ``url_pattern`` builds the QR code's progress address."""
    if paper_mm not in PAPER_COLUMNS:
        raise ValueError(f"paper width must be one of {sorted(PAPER_COLUMNS)} mm, not {paper_mm}")
    cols = PAPER_COLUMNS[paper_mm]
    t = lambda msgid, **p: translate(msgid, language, **p)  # noqa: E731
    blocks: list = [Text(x, height=2, bold=True, align=Align.CENTER) for x in wrap(t(TITLE), cols)]
    label, number = number_line(submitted, language)
    blocks += [Text(x) for x in wrap(label, cols)]
    blocks += [Text(x, height=2, bold=True) for x in wrap(number, cols)]
    blocks.append(Text("-" * cols))
    for label, text in notice_lines(submitted, language):
        blocks += [Text(x) for x in wrap(text, cols, f"{label}{t(N_(': '))}" if label else "")]
    blocks += qr_footer(progress_url(submitted, url_pattern), N_("Scan to follow your case"), language, cols,
                        station=station, printed_at=printed_at)
    return Receipt(tuple(blocks))
