"""Receipt layouts: a service item's guide as the guide page shows it and as a printed receipt.

``guide_sections`` is the guide in reading order (the eight published fields, the
handling body, the item code, the sample form); the guide screen and ``guide_receipt``
both lay it out. Receipts are wrapped to the paper's columns (58 mm: 32, 80 mm: 48
half-width columns; a Chinese character takes two), without starting a line with
closing punctuation, and end with a QR code of the item's guide online.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from drivers.printer.receipt import Align, Cut, Feed, QrCode, Receipt, Text
from kiosk.catalog.items import ServiceItem
from l10n import N_, translate

PAPER_COLUMNS = {58: 32, 80: 48}
CHECKBOX = "□"
_NO_LINE_START = set("，。、；：？！）》」』”’,.;:?!)]%")
_TOKEN = re.compile(r"[!-~]+|\s+|.", re.S)  # a latin word, a run of spaces, or one character


@dataclass(frozen=True)
class Section:
    """One part of a guide: a heading and its lines; ``numbered`` lines are steps or a checklist."""

    key: str          # legal_basis, conditions, materials, ...
    heading: str      # translated
    lines: tuple[str, ...]
    numbered: bool = False


def material_line(material, language: str) -> str:
    """``居民身份证：原件1份，复印件1份（说明）``."""
    counts = []
    if material.originals:
        counts.append(translate(N_("{n} original(s)"), language, n=material.originals))
    if material.copies:
        counts.append(translate(N_("{n} copy(ies)"), language, n=material.copies))
    text = material.name
    if counts:
        text += translate(N_(": "), language) + translate(N_(", "), language).join(counts)
    if material.note:
        text += f"（{material.note}）"
    return text


def time_limit(item: ServiceItem, language: str) -> str:
    if item.time_limit_days == 0:
        return translate(N_("Done on the spot"), language)
    return translate(N_("{days} working days"), language, days=item.time_limit_days)


def guide_sections(item: ServiceItem, language: str = "zh_CN") -> tuple[Section, ...]:
    """The guide in reading order; empty fields are left out."""
    t = lambda msgid: translate(msgid, language)  # noqa: E731
    parts = [
        Section("handling_body", t(N_("Handled by")), (item.handling_body,)),
        Section("code", t(N_("Item code")), (str(item.code),)),
        Section("legal_basis", t(N_("Legal basis")), (item.legal_basis,)),
        Section("conditions", t(N_("Who can apply")), (item.conditions,)),
        Section("materials", t(N_("Materials to bring")),
                tuple(material_line(m, language) for m in item.materials), numbered=True),
        Section("procedure", t(N_("Steps")), item.procedure, numbered=True),
        Section("time_limit", t(N_("Time limit")), (time_limit(item, language),)),
        Section("fee_basis", t(N_("Fee basis")), (item.fee_basis,)),
        Section("fee_standard", t(N_("Fee")), (item.fee_standard,)),
        Section("sample_form", t(N_("Sample form")), (item.sample_form,)),
    ]
    return tuple(s for s in parts if any(line.strip() for line in s.lines))


def guide_url(item: ServiceItem, pattern: str) -> str:
    """The item's guide online: ``{code}`` in ``pattern`` becomes the 10-digit basic code."""
    return pattern.replace("{code}", item.code.basic)


# -- layout on paper ------------------------------------------------------------------------
def columns_of(text: str) -> int:
    """Printed width in half-width columns: in Chinese mode every non-ASCII character takes two."""
    return sum(1 if ord(ch) < 128 else 2 for ch in text)


def wrap(text: str, columns: int, prefix: str = "") -> list[str]:
    """``text`` in lines of at most ``columns``; ``prefix`` starts the first, its width indents the rest."""
    indent = " " * columns_of(prefix)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = prefix if not lines else indent
        width = columns_of(line)
        for token in _pieces(paragraph, columns - len(indent)):
            if width + columns_of(token) > columns and line.strip():
                line, token = _keep_punctuation(line, token, len(indent), columns - len(indent))
                lines.append(line.rstrip())
                line, width = indent, len(indent)
                if token.isspace():
                    continue
            line, width = line + token, width + columns_of(token)
        lines.append(line.rstrip())
    return lines


def _pieces(paragraph: str, room: int) -> list[str]:
    """Tokens no wider than ``room`` (a long latin word, e.g. a URL, is cut)."""
    out = []
    for token in _TOKEN.findall(paragraph):
        while columns_of(token) > room:
            out.append(token[:room])
            token = token[room:]
        out.append(token)
    return out


def _keep_punctuation(line: str, token: str, indent: int, room: int) -> tuple[str, str]:
    """Break before ``token``; closing punctuation takes the line's last character with it."""
    if (token[0] in _NO_LINE_START and len(line.strip()) > 1 and len(line) > indent + 1
            and columns_of(line[-1] + token) <= room):
        line, token = line[:-1], line[-1] + token
    return line, token


def guide_receipt(item: ServiceItem, language: str = "zh_CN", *, station: str = "",
                  url_pattern: str = "https://www.gdzwfw.gov.cn/portal/v2/guide/{code}",
                  printed_at: datetime | None = None, paper_mm: int = 58) -> Receipt:
    """The printed guide: title, every section, a QR code of the guide online, station and time."""
    if paper_mm not in PAPER_COLUMNS:
        raise ValueError(f"paper width must be one of {sorted(PAPER_COLUMNS)} mm, not {paper_mm}")
    cols = PAPER_COLUMNS[paper_mm]
    t = lambda msgid, **p: translate(msgid, language, **p)  # noqa: E731
    blocks: list = [Text(t(N_("Service guide")), align=Align.CENTER)]
    blocks += [Text(line, height=2, bold=True, align=Align.CENTER) for line in wrap(item.name, cols)]
    if item.on_the_spot:
        blocks.append(Text(t(N_("Done on the spot at the counter")), align=Align.CENTER))
    blocks.append(Text("-" * cols))
    for section in guide_sections(item, language):
        blocks.append(Text(f"【{section.heading}】", bold=True))
        for n, line in enumerate(section.lines, 1):
            if section.numbered:
                mark = f"{CHECKBOX}{n}. " if section.key == "materials" else f"{n}. "
                blocks += [Text(x) for x in wrap(line, cols, mark)]
            else:
                blocks += [Text(x) for x in wrap(line, cols)]
    blocks += qr_footer(guide_url(item, url_pattern), N_("Scan to read this guide online"), language, cols,
                        station=station, printed_at=printed_at)
    return Receipt(tuple(blocks))


def qr_footer(url: str, caption: str, language: str, cols: int, *, station: str = "",
              printed_at: datetime | None = None) -> list:
    """A receipt's end: a rule, the QR code of ``url`` with its ``caption`` (msgid) and the address,
    the station, the time printed, then the cut."""
    blocks: list = [Text("-" * cols), QrCode(url, module_size=5 if cols < 40 else 6, error_correction="M")]
    blocks += [Text(x, align=Align.CENTER) for x in wrap(translate(caption, language), cols)]
    blocks += [Text(x) for x in wrap(url, cols)]
    if station:
        blocks += [Text(x) for x in wrap(station, cols)]
    when = (printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    blocks += [Text(x) for x in wrap(translate(N_("Printed {time}"), language, time=when), cols)]
    return blocks + [Feed(3), Cut()]


def ticket_receipt(ticket, language: str = "zh_CN", *, station: str = "", paper_mm: int = 58) -> Receipt:
    """A queue ticket (``kiosk.queue.Ticket``): the number large, the window, people ahead, the wait."""
    cols = PAPER_COLUMNS[paper_mm]
    t = lambda msgid, **p: translate(msgid, language, **p)  # noqa: E731
    blocks: list = [Text(t(N_("Queue ticket")), align=Align.CENTER),
                     Text(ticket.number, width=4, height=4, bold=True, align=Align.CENTER),
                     Text(t(N_("{window} window"), window=ticket.window), height=2, bold=True, align=Align.CENTER),
                     Text("-" * cols)]
    blocks += [Text(x) for x in wrap(t(N_("People waiting before you: {n}"), n=ticket.ahead), cols)]
    blocks += [Text(x) for x in wrap(t(N_("Estimated wait: about {minutes} minutes"), minutes=ticket.wait_minutes), cols)]
    blocks += [Text(x) for x in wrap(t(N_("Please listen for your number and come to the window when it is called.")), cols)]
    if station:
        blocks += [Text(x) for x in wrap(station, cols)]
    blocks += [Text(x) for x in wrap(t(N_("Printed {time}"), time=ticket.issued_at.strftime("%Y-%m-%d %H:%M")), cols)]
    blocks += [Feed(3), Cut()]
    return Receipt(tuple(blocks))
