"""The audit log: who read which personal data, and when.

Every read of a person's cases, a receipt's personal lines or a certificate, and every
retention purge, is one row. Subjects are references, case numbers or masked ID
numbers: the log itself holds no personal data in clear.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

    from kiosk.store import Store

CITIZEN = "citizen"  # the card holder at the terminal
SYSTEM = "system"  # the terminal itself (retention purge)


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str  # CITIZEN, SYSTEM or "agent:<staff card id>"
    action: str  # e.g. "case.find", "case.for_person", "case.certificate", "retention.purge"
    subject: str
    detail: str = ""


def now_text() -> str:
    """The local time now, as the store keeps times in text columns."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def record(db: Store | sqlite3.Connection, actor: str, action: str, subject: str, detail: str = "") -> None:
    """One entry; pass a transaction's connection to record it with that transaction."""
    sql, params = "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)", \
        (now_text(), actor, action, subject, detail)
    if hasattr(db, "transaction"):
        with db.transaction() as tx:
            tx.execute(sql, params)
    else:
        db.execute(sql, params)


def entries(store: Store, limit: int = 1000) -> list[AuditEntry]:
    """The latest ``limit`` entries, oldest first."""
    rows = store.rows("SELECT at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,))
    return [AuditEntry(*row) for row in reversed(rows)]
