"""Applications, end to end: submit durably, follow them, print their certificates, evaluate.

``terminal.cases`` is the one door the screens use (the contract of issue 4, section 2).
``submit`` seals the applicant and the scans into the store and commits them together
with an outbox message *before* it returns, so an accepted application survives any
crash; then it nudges the outbox and waits a little, so the receipt can say whether the
case is already on the platform. Reads of a person's cases ask the platform when it
answers and fall back to the last known state; each one is written to the audit log.

Added to the contract: ``receipt(ref)`` (the receipt again, e.g. after paper-out),
``appointment_slots(window, day)``, an ``actor`` keyword on every read (the audit log's
"who": ``"citizen"`` or ``"agent:<staff card id>"``), and ``Submitted.agent`` (the notice
names the village agent who applied for the villager).

This module imports nothing heavy: the store, the sealing key, the outbox and the
platform's client are loaded by ``Cases.open`` when the cases are first used.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.idcard.identity import masked_id
from kiosk import audit, crashpoints
from kiosk.catalog.items import ServiceItem

if TYPE_CHECKING:
    from kiosk.config import Config
    from kiosk.fleet_counters import Counters
    from kiosk.outbox import Outbox
    from kiosk.store import Store

QUEUED = "queued"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # sorts a case with no history last
FINAL = ("completed", "rejected")


# -- values (the contract) ---------------------------------------------------------------
@dataclass(frozen=True)
class Applicant:
    name: str
    id_number: str
    gender: str = ""
    nation: str = ""
    birth_date: str = ""  # ISO date
    address: str = ""
    phone: str = ""

    @classmethod
    def from_identity(cls, identity, phone: str = "") -> Applicant:
        """From a ``drivers.idcard.identity.Identity`` (the card's photo is not kept)."""
        return cls(identity.name, identity.id_number, identity.gender, identity.nation,
                   identity.birth_date.isoformat(), identity.address, phone)


@dataclass(frozen=True)
class ScannedMaterial:
    name: str  # the catalog Material.name it satisfies
    pages: tuple[Path, ...]  # page images in the visit's temp dir; submit() seals copies into the store


@dataclass(frozen=True)
class Application:
    item: ServiceItem
    applicant: Applicant
    form: dict[str, str]
    materials: tuple[ScannedMaterial, ...]
    agent: str = ""  # the village agent's staff-card id when the agent applies for the villager


@dataclass(frozen=True)
class Submitted:
    """What the receipt (受理通知书) prints."""

    ref: str
    case_no: str  # "" while queued at the terminal
    delivered: bool
    status: str  # "queued" or a platform status
    item_code: str
    item_name: str
    applicant_name: str
    masked_id: str
    materials: tuple[tuple[str, int], ...]  # (material name, page count)
    promised_date: date
    submitted_at: datetime
    progress_ref: str  # the receipt's QR code: case_no if delivered, else ref
    agent: str = ""  # the village agent's staff-card id when the agent applied for the villager


@dataclass(frozen=True)
class CaseView:
    ref: str
    case_no: str
    item_code: str
    item_name: str
    status: str
    history: tuple[tuple[datetime, str, str], ...]  # (when, status, note)
    promised_date: date | None
    overdue: bool
    reason: str
    certificate_ready: bool
    delivered: bool


@dataclass(frozen=True)
class Certificate:
    pdf: bytes
    verification_code: str
    case_no: str
    item_name: str


@dataclass(frozen=True)
class Evaluation:
    """好差评 (GB/T 39734/39735); the evaluator is not named."""

    case: str  # ref or case_no; "" for a service with no case
    level: str  # one of fleet.protocol.EVALUATION_LEVELS
    followup: dict[str, str]  # "overall", "efficiency", "service", "attitude" -> a level
    problems: tuple[str, ...] = ()
    comment: str = ""
    callback_phone: str = ""  # only with a call-back request; sealed at rest


# -- sealing places: what each sealed value is bound to -----------------------------------
def applicant_where(ref: str) -> str:
    return f"cases/{ref}/applicant"


def material_where(ref: str, index: int, page: int) -> str:
    return f"materials/{ref}/{index}/{page}"


def payload_where(key: str) -> str:
    return f"outbox/{key}/payload"


def private_where(table: str, ref: str) -> str:
    return f"{table}/{ref}/private"


def idempotency_key(ref: str) -> str:
    """``ref`` and a random suffix: a store wiped and begun again never reuses a key the platform knows."""
    return f"{ref}.{secrets.token_hex(6)}"


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday to Friday) after ``start``; ``start`` itself for 0."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


class Cases:
    """``terminal.cases``. Made by ``Cases.open``; ``start`` runs the outbox, ``close`` stops it."""

    def __init__(self, store: Store, outbox: Outbox, terminal_id: str, *, counters: Counters | None = None,
                 platform=None):
        self.store = store
        self.outbox = outbox
        self.terminal_id = terminal_id
        self._counters = counters
        self._platform = platform  # () -> Upstream, for the reads that ask the platform directly
        self._upstream = None
        self._submit_lock = threading.Lock()

    @classmethod
    def open(cls, config: Config, counters: Counters | None = None, on_stuck=None) -> Cases:
        """The store of ``config``'s ``[store]`` section and its outbox; ``KeyFileError`` on a bad key file."""
        from kiosk import deliveries
        from kiosk.outbox import Backoff, Outbox
        from kiosk.sealed import Sealer
        from kiosk.store import Store

        options = config.store
        store = Store(options.dir, Sealer.from_file(options.key_file))
        store.remove_orphan_files()
        platform = deliveries.platform_of(config)
        outbox = Outbox(store, deliveries.HANDLERS, platform,
                        on_pending=counters and (lambda n: counters.gauge("outbox_pending", n)),
                        on_stuck=on_stuck, stuck_after_s=options.stuck_after_s,
                        backoff=Backoff(cap_s=options.retry_max_s),
                        housekeeping=lambda: deliveries.purge(store, options.retention_days))
        return cls(store, outbox, config.terminal.id, counters=counters, platform=platform)

    def start(self) -> None:
        self.outbox.start()

    def close(self) -> None:
        self.outbox.close()
        self.store.close()

    # -- submit ------------------------------------------------------------------------
    def submit(self, application: Application, wait_s: float = 3.0) -> Submitted:
        """Seal and commit the application with its outbox message, then wait up to ``wait_s`` for delivery."""
        item, applicant = application.item, application.applicant
        sealer = self.store.sealer
        now = datetime.now().astimezone()
        with self._submit_lock:
            ref = self._next_ref("cases", now, "")
            key = idempotency_key(ref)
            pages = []
            for index, material in enumerate(application.materials):
                for page, source in enumerate(material.pages, 1):
                    data = Path(source).read_bytes()
                    path = self.store.material_path(ref, index, page)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    sealer.write_file(path, data, material_where(ref, index, page))
                    pages.append((ref, index, material.name, page, str(path.relative_to(self.store.files)),
                                  hashlib.sha256(data).hexdigest(), len(data)))
                    crashpoints.point("submit.page_sealed")
            request = {
                "ref": ref, "terminal": self.terminal_id, "item_code": item.code.basic, "item_name": item.name,
                "applicant": applicant.__dict__, "form": dict(application.form), "agent": application.agent,
                "materials": [{"index": i, "name": m.name, "pages": len(m.pages)}
                              for i, m in enumerate(application.materials)],
                "submitted_at": now.isoformat(timespec="seconds"),
            }
            promised = add_working_days(now.date(), item.time_limit_days)
            with self.store.transaction() as tx:
                tx.execute(
                    "INSERT INTO cases (ref, item_code, item_name, status, applicant, person, promised_date,"
                    " submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (ref, item.code.basic, item.name, QUEUED,
                     sealer.seal_json({"applicant": applicant.__dict__, "form": dict(application.form),
                                       "agent": application.agent}, applicant_where(ref)),
                     sealer.tag(applicant.id_number), promised.isoformat(), request["submitted_at"]))
                tx.executemany("INSERT INTO materials VALUES (?, ?, ?, ?, ?, ?, ?)", pages)
                self.outbox.enqueue(tx, "case", key, ref, sealer.seal_json(request, payload_where(key)))
                crashpoints.point("submit.before_commit")
            crashpoints.point("submit.committed")
        if self._counters:
            self._counters.count("cases_by_item", key=item.code.basic)
        self.outbox.nudge()
        if wait_s > 0:
            self.outbox.wait(key, wait_s)
        return self._submitted(ref, application)

    def receipt(self, ref: str, actor: str = audit.CITIZEN) -> Submitted | None:
        """The receipt of a case submitted here, again (e.g. after the paper ran out)."""
        row = self.store.row("SELECT applicant FROM cases WHERE ref = ?", (ref,))
        if row is None or row["applicant"] is None:  # unknown, or its personal data purged
            return None
        audit.record(self.store, actor, "case.receipt", ref)
        return self._submitted(ref, None)

    def _submitted(self, ref: str, application: Application | None) -> Submitted:
        row = self.store.row("SELECT * FROM cases WHERE ref = ?", (ref,))
        sealed = self.store.sealer.open_json(row["applicant"], applicant_where(ref))
        materials = self.store.rows("SELECT name, count(*) FROM materials WHERE ref = ? GROUP BY idx ORDER BY idx",
                                    (ref,))
        delivered = bool(row["case_no"]) and row["delivered_at"] is not None
        return Submitted(
            ref=ref, case_no=row["case_no"] if delivered else "", delivered=delivered, status=row["status"],
            item_code=row["item_code"], item_name=row["item_name"], applicant_name=sealed["applicant"]["name"],
            masked_id=masked_id(sealed["applicant"]["id_number"]),
            materials=tuple((name, count) for name, count in materials),
            promised_date=date.fromisoformat(row["promised_date"]),
            submitted_at=datetime.fromisoformat(row["submitted_at"]),
            progress_ref=row["case_no"] if delivered else ref, agent=sealed.get("agent", ""))

    def _next_ref(self, table: str, now: datetime, letter: str) -> str:
        """``<terminal>-<letter><yyyymmdd>-<nnnn>``: the day's next reference of ``table``."""
        prefix = f"{self.terminal_id}-{letter}{now:%Y%m%d}-"
        last = self.store.value(f"SELECT max(ref) FROM {table} WHERE ref LIKE ?", (prefix + "%",))  # noqa: S608
        return f"{prefix}{int(last[len(prefix):]) + 1 if last else 1:04d}"

    # -- follow ---------------------------------------------------------------------------
    def find(self, number: str, actor: str = audit.CITIZEN) -> CaseView | None:
        """The case with reference or case number ``number``: the platform's word, else the last known.
        A reference may be typed as its digits alone (see ``_by_digits``)."""
        number = number.strip()
        local = self.store.row("SELECT * FROM cases WHERE ref = ? OR (case_no = ? AND case_no != '')",
                               (number, number)) or self._by_digits(number)
        case_no = local["case_no"] if local is not None else number
        view = None
        if case_no and (local is None or local["delivered_at"] is not None):
            view = self._ask(lambda up: [up.case(case_no)], local["person"] if local is not None else None)
            view = view[0] if view else self._cached(case_no, local)
        elif local is not None:
            view = _local_view(local)
        if view is not None:
            audit.record(self.store, actor, "case.find", number)
        return view

    def _by_digits(self, number: str):
        """The case here whose reference, its letters and hyphens left out, ends with ``number``
        (at least the date and the day's number: what the numeric keypad can type); None if not one."""
        if not number.isdigit() or len(number) < 12:
            return None
        rows = [row for row in self.store.rows("SELECT * FROM cases WHERE ref LIKE ?",
                                               (f"%-{number[-12:-4]}-{number[-4:]}",))
                if "".join(filter(str.isdigit, row["ref"])).endswith(number)]
        return rows[0] if len(rows) == 1 else None

    def for_person(self, id_number: str, actor: str = audit.CITIZEN) -> list[CaseView]:
        """Every case of the person with ``id_number``, newest first: the platform's list merged
        with what is queued here; offline, the last known states."""
        person = self.store.sealer.tag(id_number)
        views = {v.case_no: v for v in self._ask(lambda up: up.cases_for(id_number), person) or
                 [self._cached(row["case_no"], None)
                  for row in self.store.rows("SELECT case_no FROM case_status WHERE person = ?", (person,))]}
        for row in self.store.rows("SELECT * FROM cases WHERE person = ?", (person,)):
            if not row["case_no"] or row["delivered_at"] is None:
                views[row["ref"]] = _local_view(row)
            elif row["case_no"] not in views:
                views[row["case_no"]] = self._cached(row["case_no"], row)
        found = sorted(views.values(), key=lambda v: v.history[0][0] if v.history else _EPOCH,
                       reverse=True)
        audit.record(self.store, actor, "case.for_person", masked_id(id_number), f"{len(found)} cases")
        return found

    def certificate(self, case: CaseView, actor: str = audit.CITIZEN) -> Certificate:
        """The certificate of a completed case; ``kiosk.upstream.client.Unavailable`` offline."""
        pdf, code = self._up().certificate(case.case_no)
        audit.record(self.store, actor, "case.certificate", case.case_no)
        return Certificate(pdf, code, case.case_no, case.item_name)

    def _ask(self, call, person: str | None) -> list[CaseView] | None:
        """Platform case records from ``call(upstream)``, cached; None when the platform does not answer."""
        from kiosk.upstream.client import UpstreamError

        try:
            answers = call(self._up())
        except UpstreamError:
            return None
        checked = audit.now_text()
        with self.store.transaction() as tx:
            for answer in answers:
                tx.execute("INSERT INTO case_status (case_no, person, view, checked_at) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (case_no) DO UPDATE SET view = excluded.view,"
                           " checked_at = excluded.checked_at, person = coalesce(excluded.person, person)",
                           (answer["case_no"], person, json.dumps(answer, ensure_ascii=False), checked))
        return [self._platform_view(answer) for answer in answers]

    def _cached(self, case_no: str, local) -> CaseView | None:
        row = self.store.row("SELECT view FROM case_status WHERE case_no = ?", (case_no,))
        if row is not None:
            return self._platform_view(json.loads(row["view"]))
        return _local_view(local) if local is not None else None

    def _platform_view(self, answer: dict[str, Any]) -> CaseView:
        ref = self.store.value("SELECT ref FROM cases WHERE case_no = ?", (answer["case_no"],))
        promised = date.fromisoformat(answer["promised_date"]) if answer.get("promised_date") else None
        certificate = answer.get("certificate") or {}
        return CaseView(
            ref=ref or "", case_no=answer["case_no"], item_code=answer.get("item_code", ""),
            item_name=answer.get("item_name", ""), status=answer["status"],
            history=tuple((datetime.fromisoformat(h["at"]), h["status"], h.get("note", ""))
                          for h in answer.get("history", ())),
            promised_date=promised, overdue=_overdue(promised, answer["status"]),
            reason=answer.get("reason") or "", certificate_ready=bool(certificate.get("ready")), delivered=True)

    def _up(self):
        if self._upstream is None:
            self._upstream = self._platform()
        return self._upstream

    # -- evaluate, complain, book ----------------------------------------------------------
    def evaluate(self, evaluation: Evaluation) -> None:
        """Keep the evaluation and forward it (without the call-back phone) through the outbox."""
        request = {"case": evaluation.case, "level": evaluation.level, "followup": dict(evaluation.followup),
                   "problems": list(evaluation.problems), "comment": evaluation.comment}
        self._record("evaluations", "E", "evaluation", request, lambda tx, ref: tx.execute(
            "INSERT INTO evaluations (ref, case_ref, level, followup, problems, private, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ref, evaluation.case, evaluation.level, json.dumps(evaluation.followup),
             json.dumps(list(evaluation.problems), ensure_ascii=False),
             self.store.sealer.seal_json({"comment": evaluation.comment, "callback_phone": evaluation.callback_phone},
                                         private_where("evaluations", ref)), audit.now_text())))
        if self._counters:
            self._counters.count("evaluations", key=evaluation.level)

    def complain(self, evaluation: Evaluation) -> None:
        """A poor rating with a call-back request: a complaint for the platform to call back on."""
        request = {"case": evaluation.case, "level": evaluation.level, "problems": list(evaluation.problems),
                   "comment": evaluation.comment, "callback_phone": evaluation.callback_phone}
        self._record("complaints", "C", "complaint", request, lambda tx, ref: tx.execute(
            "INSERT INTO complaints (ref, evaluation_ref, created_at) VALUES (?, ?, ?)", (ref, evaluation.case, audit.now_text())))

    def appointment_slots(self, window: str, day: str) -> list[dict]:
        """The platform's slots at ``window`` on ``day`` (YYYY-MM-DD), each with its ``free`` places;
        ``kiosk.upstream.client.Unavailable`` offline."""
        return self._up().appointment_slots(window, day)

    def book(self, appointment: dict) -> str:
        """Keep an appointment (a window slot or a home visit) and forward it; its local reference."""
        return self._record("appointments", "A", "appointment", dict(appointment), lambda tx, ref: tx.execute(
            "INSERT INTO appointments (ref, details, created_at) VALUES (?, ?, ?)",
            (ref, self.store.sealer.seal_json(appointment, private_where("appointments", ref)), audit.now_text())))

    def _record(self, table: str, letter: str, kind: str, request: dict, insert) -> str:
        with self._submit_lock:
            ref = self._next_ref(table, datetime.now().astimezone(), letter)
            key = idempotency_key(ref)
            with self.store.transaction() as tx:
                insert(tx, ref)
                self.outbox.enqueue(tx, kind, key, ref, self.store.sealer.seal_json(request, payload_where(key)))
        self.outbox.nudge()
        return ref


def _local_view(row) -> CaseView:
    """A case as this terminal knows it: queued, or as the platform last answered its delivery."""
    promised = date.fromisoformat(row["promised_date"])
    history = [(datetime.fromisoformat(row["submitted_at"]), QUEUED, "")]
    if row["delivered_at"]:
        history.append((datetime.fromisoformat(row["delivered_at"]), row["status"], row["reason"]))
    return CaseView(ref=row["ref"], case_no=row["case_no"] if row["delivered_at"] else "",
                    item_code=row["item_code"], item_name=row["item_name"], status=row["status"],
                    history=tuple(history), promised_date=promised, overdue=_overdue(promised, row["status"]),
                    reason=row["reason"], certificate_ready=False, delivered=row["delivered_at"] is not None
                    and bool(row["case_no"]))


def _overdue(promised: date | None, status: str) -> bool:
    return promised is not None and status not in FINAL and date.today() > promised
