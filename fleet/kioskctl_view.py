"""How kioskctl shows things: tables that line up with Chinese text, and a job's live progress.

Chinese characters take two columns of a terminal (East Asian width W or F), so widths
are counted in columns, not characters. ``Progress`` redraws one bar per device on a
TTY and prints one line per change otherwise (logs, pipes).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

from l10n import N_, translate

BAR = 24
FINAL = ("SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT")
WORDS = {  # values the manager sends, shown in the operator's language
    "online": N_("online"), "maintenance": N_("maintenance"), "out_of_service": N_("out of service"),
    "offline": N_("offline"), "unknown": N_("unknown"), "busy": N_("busy"), "hardware_error": N_("hardware error"),
    "no_device": N_("no device"), "open": N_("open"), "acknowledged": N_("acknowledged"),
    "resolved": N_("resolved"), "warning": N_("warning"), "critical": N_("critical"), "info": N_("info"),
    "QUEUED": N_("queued"), "IN_PROGRESS": N_("in progress"), "SUCCEEDED": N_("succeeded"), "FAILED": N_("failed"),
    "REJECTED": N_("rejected"), "TIMED_OUT": N_("timed out"), "demonstration": N_("demonstration"),
    "standard": N_("standard"), "simple": N_("simple"),
}


def word(value: Any, lang: str) -> str:
    """A value as shown: a known word translated, None as a dash, the rest as text."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return translate(N_("yes") if value else N_("no"), lang)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    text = str(value)
    return translate(WORDS[text], lang) if text in WORDS else text


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(cell, w) for cell, w in zip(line, widths)).rstrip() for line in (headers, *rows)]
    return "\n".join(lines)


def pairs(rows: Sequence[tuple[str, str]]) -> str:
    """Names and values, the values lined up."""
    name_w = max([width(name) for name, _ in rows] or [0])
    return "\n".join(f"{pad(name, name_w)}  {value}" for name, value in rows)


def bar(progress: int) -> str:
    done = max(0, min(BAR, round(BAR * progress / 100)))
    return "█" * done + "░" * (BAR - done)


class Progress:
    """A job's targets as they move: bars redrawn in place on a TTY, lines otherwise."""

    def __init__(self, out: TextIO, lang: str, tty: bool):
        self.out, self.lang, self.tty = out, lang, tty
        self._shown: dict[str, tuple[str, int]] = {}
        self._lines = 0

    def update(self, targets: list[dict[str, Any]]) -> None:
        if self.tty:
            self._redraw(targets)
            return
        for t in targets:
            now = (t["status"], int(t.get("progress") or 0))
            if self._shown.get(t["device"]) != now:
                self._shown[t["device"]] = now
                line = f"{t['device']}  {word(now[0], self.lang)}  {now[1]}%{self._reason(t)}"
                print(line, file=self.out, flush=True)

    def _redraw(self, targets: list[dict[str, Any]]) -> None:
        name_w = max([width(t["device"]) for t in targets] or [0])
        if self._lines:
            self.out.write(f"\x1b[{self._lines}F")  # back to the first bar's line
        for t in targets:
            progress = int(t.get("progress") or 0)
            line = f"{pad(t['device'], name_w)}  {bar(progress)} {progress:3d}%  {word(t['status'], self.lang)}"
            self.out.write(f"\x1b[2K{line}{self._reason(t)}\n")
        self._lines = len(targets)
        self.out.flush()

    def _reason(self, target: dict[str, Any]) -> str:
        detail = target.get("detail") or {}
        reason = detail.get("reason") if isinstance(detail, dict) else None
        return f"  ({reason})" if reason and target["status"] in FINAL else ""
