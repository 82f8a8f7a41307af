"""What the outbox does with each kind of message, and the retention purge.

A case goes in three idempotent steps: create it under its reference as idempotency key
(the platform's case number is committed at once), upload every page (resumable: the
platform says how much it has), submit it. A crash at any point repeats at most the step
it was in, and the platform recognises the repetition. Evaluations, complaints and
appointments are one call each, under their reference as key; an evaluation tied to a
case still queued here waits (``Deferred``) until that case has its number.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kiosk import audit, crashpoints
from kiosk.cases import material_where, payload_where
from kiosk.outbox import DELIVERED, FAILED, Deferred, Message, Outbox
from kiosk.sealed import SealError
from kiosk.store import Store
from kiosk.upstream.client import Rejected, Upstream

if TYPE_CHECKING:
    from kiosk.config import Config

log = logging.getLogger(__name__)


def platform_of(config: Config):
    """A maker of the platform's client for ``config``'s ``[upstream]`` section (no url: always Unavailable)."""
    return lambda: Upstream(config.upstream, config.terminal.id)


def _request(outbox: Outbox, message: Message) -> dict[str, Any]:
    request = outbox.store.sealer.open_json(message.payload, payload_where(message.key))
    if not isinstance(request, dict):
        raise SealError(f"{payload_where(message.key)}: not a JSON object")
    return request


def deliver_case(outbox: Outbox, upstream: Upstream, message: Message) -> None:
    store = outbox.store
    try:
        if not message.progress.get("case_no"):
            case_no = upstream.create_case(message.key, _request(outbox, message))["case_no"]
            crashpoints.point("case.created")
            message = outbox.save_progress(message, lambda tx: tx.execute(
                "UPDATE cases SET case_no = ? WHERE ref = ?", (case_no, message.ref)), case_no=case_no)
            crashpoints.point("case.number_saved")
        case_no = message.progress["case_no"]
        for row in store.rows("SELECT * FROM materials WHERE ref = ? ORDER BY idx, page", (message.ref,)):
            if row["path"] is None:
                raise SealError(f"{message.ref}: page {row['idx']}/{row['page']} has no file")
            data = store.sealer.read_file(store.files / row["path"], material_where(message.ref, row["idx"], row["page"]))
            if hashlib.sha256(data).hexdigest() != row["sha256"]:
                raise SealError(f"{row['path']}: opened, but its SHA-256 differs from the one recorded")
            upstream.upload_material(case_no, row["idx"], row["name"], row["page"], data)
            crashpoints.point("case.uploaded")
        answer = upstream.submit_case(case_no)
        crashpoints.point("case.submitted")
    except Rejected as exc:
        reason = exc.reason or str(exc)
        outbox.fail(message, f"rejected: {exc}", lambda tx: tx.execute(
            "UPDATE cases SET status = 'rejected', reason = ?, delivered_at = ? WHERE ref = ?",
            (reason, audit.now_text(), message.ref)))
        return
    outbox.finish(message, lambda tx: tx.execute(
        "UPDATE cases SET status = ?, promised_date = coalesce(?, promised_date), delivered_at = ? WHERE ref = ?",
        (answer["status"], answer.get("promised_date") or None, audit.now_text(), message.ref)))


def case_number(store: Store, number: str) -> str:
    """The platform's number of the case ``number`` (a local reference or already a case number)."""
    if not number:
        return ""
    row = store.row("SELECT case_no, delivered_at FROM cases WHERE ref = ?", (number,))
    if row is None:
        return number
    if not row["case_no"] and row["delivered_at"] is None:
        raise Deferred(f"case {number} is not on the platform yet")
    return row["case_no"]


def deliver_evaluation(outbox: Outbox, upstream: Upstream, message: Message) -> None:
    request = _request(outbox, message)
    upstream.evaluate(message.key, {**request, "case_no": case_number(outbox.store, request["case"])})
    outbox.finish(message)


def deliver_complaint(outbox: Outbox, upstream: Upstream, message: Message) -> None:
    request = _request(outbox, message)
    answer = upstream.complain(message.key, {**request, "case_no": case_number(outbox.store, request["case"])})
    outbox.finish(message, lambda tx: tx.execute(
        "UPDATE complaints SET complaint_no = ? WHERE ref = ?", (str(answer.get("complaint_no", "")), message.ref)))


def deliver_appointment(outbox: Outbox, upstream: Upstream, message: Message) -> None:
    answer = upstream.book(message.key, _request(outbox, message))
    outbox.finish(message, lambda tx: tx.execute(
        "UPDATE appointments SET booking_no = ? WHERE ref = ?", (str(answer.get("booking_no", "")), message.ref)))


HANDLERS = {"case": deliver_case, "evaluation": deliver_evaluation, "complaint": deliver_complaint,
            "appointment": deliver_appointment}

_SETTLED = f"SELECT ref FROM outbox WHERE state IN ('{DELIVERED}', '{FAILED}')"


def purge(store: Store, retention_days: int, now: datetime | None = None) -> int:
    """Purge the personal data the platform has had for ``retention_days``; how many cases."""
    now = now or datetime.now().astimezone()
    cutoff = (now - timedelta(days=retention_days)).isoformat(timespec="seconds")
    stamp = now.isoformat(timespec="seconds")
    refs = [row[0] for row in store.rows(
        "SELECT ref FROM cases WHERE applicant IS NOT NULL AND delivered_at IS NOT NULL AND delivered_at < ?",
        (cutoff,))]
    for ref in refs:
        with store.transaction() as tx:
            tx.execute("UPDATE cases SET applicant = NULL, person = NULL, purged_at = ? WHERE ref = ?", (stamp, ref))
            tx.execute("UPDATE materials SET path = NULL WHERE ref = ?", (ref,))
            tx.execute("UPDATE outbox SET payload = NULL WHERE ref = ?", (ref,))
            audit.record(tx, audit.SYSTEM, "retention.purge", ref)
        store.remove_files(ref)
    with store.transaction() as tx:
        for table, column in (("evaluations", "private"), ("appointments", "details")):
            tx.execute(f"UPDATE outbox SET payload = NULL WHERE ref IN (SELECT ref FROM {table} WHERE {column}"  # noqa: S608
                       f" IS NOT NULL AND created_at < ?) AND ref IN ({_SETTLED})", (cutoff,))
            tx.execute(f"UPDATE {table} SET {column} = NULL, purged_at = ? WHERE {column} IS NOT NULL"  # noqa: S608
                       f" AND created_at < ? AND ref IN ({_SETTLED})", (stamp, cutoff))
        tx.execute("UPDATE outbox SET payload = NULL WHERE kind = 'complaint' AND created_at < ? AND ref IN"
                   f" ({_SETTLED})", (now.timestamp() - retention_days * 86400,))
        tx.execute("UPDATE case_status SET person = NULL WHERE person IS NOT NULL AND checked_at < ?", (cutoff,))
    if refs:
        log.info("retention: personal data of %d delivered cases purged", len(refs))
    return len(refs)
