"""The platform's replies, checked: each one a plain dict of known keys and types, or ``BadReply``.

Nothing the platform sends reaches the terminal's code unchecked; a reply that does not
fit (docs/upstream-api.md) raises ``BadReply`` naming the key.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from kiosk.upstream.errors import BadReply

STATUSES = ("draft", "submitted", "accepted", "processing", "completed", "rejected")
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")  # case, complaint, booking numbers; codes
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_TEXT = 4000


def _get(doc: Any, key: str, where: str) -> Any:
    if not isinstance(doc, dict):
        raise BadReply(f"{where}: not a JSON object")
    if key not in doc:
        raise BadReply(f"{where}: no {key!r}")
    return doc[key]


def text(doc: Any, key: str, where: str, *, empty: bool = True) -> str:
    value = _get(doc, key, where)
    if not isinstance(value, str) or len(value) > MAX_TEXT or (not empty and not value.strip()):
        raise BadReply(f"{where}: {key!r} is not a{'' if empty else ' non-empty'} string")
    return value


def number(doc: Any, key: str, where: str) -> str:
    """An identifier the terminal may put in a URL path or print: letters, digits and dashes."""
    value = _get(doc, key, where)
    if not isinstance(value, str) or not _NUMBER.fullmatch(value):
        raise BadReply(f"{where}: {key!r} is not a number the terminal can use: {value!r:.80}")
    return value


def integer(doc: Any, key: str, where: str, low: int, high: int) -> int:
    value = _get(doc, key, where)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadReply(f"{where}: {key!r} is not an integer from {low} to {high}")
    return value


def flag(doc: Any, key: str, where: str) -> bool:
    value = _get(doc, key, where)
    if not isinstance(value, bool):
        raise BadReply(f"{where}: {key!r} is not true or false")
    return value


def status(doc: Any, key: str, where: str) -> str:
    value = _get(doc, key, where)
    if value not in STATUSES:
        raise BadReply(f"{where}: {key!r} is not a case status: {value!r:.80}")
    return value


def day(doc: Any, key: str, where: str, *, optional: bool = False) -> str | None:
    """An ISO date ``YYYY-MM-DD`` (None allowed when ``optional``)."""
    value = _get(doc, key, where)
    if value is None and optional:
        return None
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadReply(f"{where}: {key!r} is not a date (YYYY-MM-DD): {value!r:.80}") from None
    if len(value) != 10:
        raise BadReply(f"{where}: {key!r} is not a date (YYYY-MM-DD): {value!r:.80}")
    return value


def moment(doc: Any, key: str, where: str) -> str:
    """An ISO 8601 time with its UTC offset, e.g. ``2026-11-24T09:30:00+08:00``."""
    value = _get(doc, key, where)
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise BadReply(f"{where}: {key!r} is not a time with its UTC offset: {value!r:.80}")
    return value


def items(doc: Any, key: str, where: str, limit: int = 10000) -> list:
    value = _get(doc, key, where)
    if not isinstance(value, list) or len(value) > limit:
        raise BadReply(f"{where}: {key!r} is not a list")
    return value


# -- the replies ---------------------------------------------------------------------------
def created(doc: Any) -> dict:
    return {"case_no": number(doc, "case_no", "case"), "status": status(doc, "status", "case"),
            "created_at": moment(doc, "created_at", "case")}


def submitted(doc: Any) -> dict:
    where = "submitted case"
    return {"case_no": number(doc, "case_no", where), "status": status(doc, "status", where),
            "promised_date": day(doc, "promised_date", where),
            "on_the_spot": flag(doc, "on_the_spot", where),
            "submitted_at": moment(doc, "submitted_at", where)}


def case(doc: Any) -> dict:
    """A case record: status, history, promised date, reason, certificate."""
    where = "case"
    certificate = _get(doc, "certificate", where)
    ready = flag(certificate, "ready", "case certificate")
    code = text(certificate, "verification_code", "case certificate")
    if ready and not _NUMBER.fullmatch(code):
        raise BadReply(f"case certificate: a ready certificate needs a verification code, not {code!r:.80}")
    return {
        "case_no": number(doc, "case_no", where),
        "item_code": number(doc, "item_code", where),
        "item_name": text(doc, "item_name", where),
        "status": status(doc, "status", where),
        "history": [{"at": moment(h, "at", "case history"), "status": status(h, "status", "case history"),
                     "note": text(h, "note", "case history")} for h in items(doc, "history", where, 100)],
        "promised_date": day(doc, "promised_date", where, optional=True),
        "reason": text(doc, "reason", where),
        "certificate": {"ready": ready, "verification_code": code},
    }


def cases(doc: Any) -> list[dict]:
    return [case(c) for c in items(doc, "cases", "cases", 1000)]


def upload(doc: Any, size: int) -> tuple[int, bool]:
    """An upload's state: how many bytes the platform has, and whether the page is complete."""
    offset = integer(doc, "offset", "upload", 0, size)
    complete = flag(doc, "complete", "upload")
    if complete and offset != size:
        raise BadReply(f"upload: complete at {offset} of {size} bytes")
    return offset, complete


def slots(doc: Any) -> list[dict]:
    where = "appointment slot"
    return [{"slot_id": number(s, "slot_id", where), "window": text(s, "window", where, empty=False),
             "start": moment(s, "start", where), "end": moment(s, "end", where),
             "free": integer(s, "free", where, 0, 1000)} for s in items(doc, "slots", "slots", 1000)]


def evaluation(doc: Any) -> dict:
    return {"evaluation_no": number(doc, "evaluation_no", "evaluation"),
            "received_at": moment(doc, "received_at", "evaluation")}


def complaint(doc: Any) -> dict:
    return {"complaint_no": number(doc, "complaint_no", "complaint"),
            "status": text(doc, "status", "complaint", empty=False),
            "received_at": moment(doc, "received_at", "complaint")}


def booking(doc: Any) -> dict:
    where = "booking"
    kind = text(doc, "kind", where)
    if kind not in ("window", "home_visit"):
        raise BadReply(f"{where}: 'kind' is not window or home_visit: {kind!r:.80}")
    return {"booking_no": number(doc, "booking_no", where), "kind": kind,
            "status": text(doc, "status", where, empty=False),
            "start": None if doc.get("start") is None else moment(doc, "start", where),
            "day": day(doc, "day", where, optional=True)}


def catalog(doc: Any) -> dict:
    """The catalog document (the bundled file's layout, as JSON) with its version and region."""
    document = _get(doc, "document", "catalog")
    if not isinstance(document, dict):
        raise BadReply("catalog: 'document' is not a JSON object")
    return {"version": text(doc, "version", "catalog", empty=False),
            "region": text(doc, "region", "catalog", empty=False), "document": document}


def error(doc: Any) -> tuple[str, str]:
    """An error body's (code, reason)."""
    body = _get(doc, "error", "error reply")
    code = _get(body, "code", "error reply")
    if not isinstance(code, str) or not _ERROR_CODE.fullmatch(code):
        raise BadReply(f"error reply: 'code' is not an error code: {code!r:.80}")
    return code, text(body, "reason", "error reply")
