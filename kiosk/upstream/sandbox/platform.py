"""The sandbox platform's state and rules over its own SQLite file (no HTTP here: ``app`` does that).

Every change runs in one ``BEGIN IMMEDIATE`` transaction under one lock, so an
idempotency key and the record it created are committed together: a creating call is
carried out exactly once per (terminal, key), whatever the terminal repeats.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.catalog.items import TOWNSHIP_WINDOWS, VILLAGE_WINDOWS, Catalog, ServiceItem
from kiosk.upstream.sandbox import requests as R
from kiosk.upstream.sandbox import rules
from kiosk.upstream.sandbox.certificate import CertificateFacts, certificate_pdf

WINDOWS = tuple(dict.fromkeys(VILLAGE_WINDOWS + TOWNSHIP_WINDOWS))
SLOT_TIMES = ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "14:00", "14:30", "15:00", "15:30",
              "16:00", "16:30", "17:00")
SLOT_MINUTES = 30
SLOT_CAPACITY = 2
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
SCHEMA = """
CREATE TABLE IF NOT EXISTS terminals (id TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (terminal TEXT, key TEXT, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
                                        body TEXT NOT NULL, PRIMARY KEY (terminal, key));
CREATE TABLE IF NOT EXISTS cases (case_no TEXT PRIMARY KEY, terminal TEXT NOT NULL, ref TEXT NOT NULL,
    item_code TEXT NOT NULL, id_number TEXT NOT NULL, request TEXT NOT NULL, created_at REAL NOT NULL,
    submitted_at REAL, fate TEXT, pace REAL, promised_date TEXT, verification_code TEXT);
CREATE INDEX IF NOT EXISTS cases_by_person ON cases (id_number);
CREATE TABLE IF NOT EXISTS uploads (case_no TEXT, idx INTEGER, page INTEGER, name TEXT NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, complete INTEGER NOT NULL, PRIMARY KEY (case_no, idx, page));
CREATE TABLE IF NOT EXISTS chunks (case_no TEXT, idx INTEGER, page INTEGER, offset INTEGER, data BLOB NOT NULL,
    PRIMARY KEY (case_no, idx, page, offset));
CREATE TABLE IF NOT EXISTS records (no TEXT PRIMARY KEY, kind TEXT NOT NULL, terminal TEXT NOT NULL,
    body TEXT NOT NULL, at REAL NOT NULL, slot_id TEXT);
"""


_PAGE = "case_no = ? AND idx = ? AND page = ?"


class ApiError(Exception):
    """A refusal: HTTP status, error code, Chinese reason, and any extra fields of the error body."""

    def __init__(self, status: int, code: str, reason: str, *, keep: bool = False, **extra: Any):
        super().__init__(f"{status} {code}: {reason}")
        self.status, self.code, self.reason, self.extra = status, code, reason, extra
        self.keep = keep  # commit what the transaction did before the refusal


class Platform:
    """The sandbox's government platform: cases, uploads, evaluations, complaints, appointments."""

    def __init__(self, db_path: Path | str, catalog: Catalog, pace: float):
        self.catalog, self.pace = catalog, pace
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: survives the process being killed
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()
        self._known: dict[str, str] = {}  # terminal -> token digest, checked once

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException as exc:
                self._db.execute("COMMIT" if isinstance(exc, ApiError) and exc.keep else "ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _row(self, sql: str, params: tuple = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def _rows(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- terminals and idempotency -----------------------------------------------------
    def authenticate(self, terminal: str, token: str) -> None:
        """Trust on first use: a terminal's first token is its token from then on."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        if self._known.get(terminal) == digest:
            return
        with self._transaction() as db:
            row = db.execute("SELECT token_sha256 FROM terminals WHERE id = ?", (terminal,)).fetchone()
            if row is None:
                db.execute("INSERT INTO terminals VALUES (?, ?)", (terminal, digest))
            elif not secrets.compare_digest(row[0], digest):
                raise ApiError(401, "unauthorized", "终端身份凭证无效，请联系运维人员重新配置。")
            self._known[terminal] = digest

    def once(self, terminal: str, key: str, request: dict, make: Callable[[sqlite3.Connection], tuple[int, dict]],
             ) -> tuple[int, dict]:
        """``make`` carried out once per (terminal, key); a repeat gets the first answer again."""
        fingerprint = hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        with self._transaction() as db:
            row = db.execute("SELECT fingerprint, status, body FROM idempotency WHERE terminal = ? AND key = ?",
                             (terminal, key)).fetchone()
            if row is not None:
                if row["fingerprint"] != fingerprint:
                    raise ApiError(422, "idempotency_key_reused", "同一幂等键已用于内容不同的请求。")
                return row["status"], json.loads(row["body"])
            status, body = make(db)
            db.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
                       (terminal, key, fingerprint, status, json.dumps(body, ensure_ascii=False)))
            return status, body

    # -- cases -------------------------------------------------------------------------
    def create_case(self, terminal: str, key: str, raw: dict) -> tuple[int, dict]:
        request = R.CaseRequest.model_validate(raw)
        item = self._item(request.item_code)
        if sorted(m.index for m in request.materials) != list(range(len(request.materials))):
            raise ApiError(400, "invalid_request", "材料序号须从0起连续编号，且不得重复。")

        def make(db: sqlite3.Connection) -> tuple[int, dict]:
            now = time.time()
            prefix = self.catalog.region + rules.local_day(now).strftime("%Y%m%d")
            seq = db.execute("SELECT count(*) FROM cases WHERE case_no LIKE ?", (prefix + "%",)).fetchone()[0] + 1
            case_no = f"{prefix}{seq:06d}"
            db.execute("INSERT INTO cases (case_no, terminal, ref, item_code, id_number, request, created_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (case_no, terminal, request.ref, item.code.basic, request.applicant.id_number,
                        request.model_dump_json(), now))
            return 201, {"case_no": case_no, "status": "draft", "created_at": rules.iso(now)}
        return self.once(terminal, key, raw, make)

    def _item(self, code: str) -> ServiceItem:
        item = self.catalog.get(code)
        if item is None:
            raise ApiError(422, "unknown_item", f"事项编码 {code} 不在政务服务事项目录中。")
        return item

    def _case(self, db: sqlite3.Connection, terminal: str | None, case_no: str) -> sqlite3.Row:
        """A case; with ``terminal``, only that terminal's own draft or case."""
        row = db.execute("SELECT * FROM cases WHERE case_no = ?", (case_no,)).fetchone()
        if row is None or (terminal is not None and row["terminal"] != terminal):
            raise ApiError(404, "not_found", f"办件 {case_no} 不存在。")
        return row

    def announce_upload(self, terminal: str, case_no: str, index: int, page: int, raw: dict) -> dict:
        """Start (or find) the upload of one page; its state."""
        head = R.UploadHead.model_validate(raw)
        with self._transaction() as db:
            case = self._case(db, terminal, case_no)
            materials = R.CaseRequest.model_validate_json(case["request"]).materials
            entry = next((m for m in materials if m.index == index), None)
            if entry is None or not 1 <= page <= entry.pages:
                raise ApiError(422, "no_such_page", f"办件 {case_no} 未申报第 {index} 项材料的第 {page} 页。")
            row = db.execute(f"SELECT * FROM uploads WHERE {_PAGE}",
                             (case_no, index, page)).fetchone()
            same = row is not None and (row["sha256"], row["size"]) == (head.sha256, head.size)
            if row is not None and row["complete"] and not same:
                raise ApiError(409, "upload_conflict", "该页已上传完成，内容与本次不同。")
            if not same:
                if case["submitted_at"] is not None:
                    raise ApiError(409, "case_submitted", "办件已提交，不能再更改材料。")
                db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?, 0)",
                           (case_no, index, page, head.name, head.size, head.sha256))
                db.execute(f"DELETE FROM chunks WHERE {_PAGE}", (case_no, index, page))
            return self._upload_state(db, case_no, index, page)

    def upload_state(self, terminal: str, case_no: str, index: int, page: int) -> dict:
        with self._transaction() as db:
            self._case(db, terminal, case_no)
            return self._upload_state(db, case_no, index, page)

    def append_upload(self, terminal: str, case_no: str, index: int, page: int, offset: int, chunk: bytes) -> dict:
        """Add ``chunk`` at ``offset``; the page is checked (SHA-256) when its last byte arrives."""
        with self._transaction() as db:
            self._case(db, terminal, case_no)
            state = self._upload_state(db, case_no, index, page)
            if offset != state["offset"] or state["complete"]:
                raise ApiError(409, "offset_mismatch", f"上传位置应为 {state['offset']}。", offset=state["offset"])
            if offset + len(chunk) > state["size"]:
                raise ApiError(400, "too_long", "上传内容超过声明的文件大小。")
            db.execute("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", (case_no, index, page, offset, chunk))
            if offset + len(chunk) == state["size"]:
                digest = hashlib.sha256()
                for (part,) in db.execute(f"SELECT data FROM chunks WHERE {_PAGE} ORDER BY offset",
                                          (case_no, index, page)):
                    digest.update(part)
                good = digest.hexdigest() == state["sha256"]
                db.execute(f"UPDATE uploads SET complete = ? WHERE {_PAGE}", (int(good), case_no, index, page))
                if not good:
                    db.execute(f"DELETE FROM chunks WHERE {_PAGE}", (case_no, index, page))  # the page starts over from 0
                    raise ApiError(422, "checksum_mismatch", "文件校验不一致，请从头重新上传该页。", keep=True, offset=0)
            return self._upload_state(db, case_no, index, page)

    @staticmethod
    def _upload_state(db: sqlite3.Connection, case_no: str, index: int, page: int) -> dict:
        row = db.execute("SELECT name, size, sha256, complete, (SELECT coalesce(sum(length(c.data)), 0) FROM chunks c"
                         " WHERE c.case_no = u.case_no AND c.idx = u.idx AND c.page = u.page) AS have"
                         " FROM uploads u WHERE case_no = ? AND idx = ? AND page = ?", (case_no, index, page)).fetchone()
        if row is None:
            raise ApiError(404, "not_found", "该页尚未开始上传。")
        return {"name": row["name"], "size": row["size"], "sha256": row["sha256"], "offset": row["have"],
                "complete": bool(row["complete"])}

    def submit(self, terminal: str, case_no: str) -> dict:
        """Submit a draft whose pages are all in (again: the same answer)."""
        with self._transaction() as db:
            case = self._case(db, terminal, case_no)
            if case["submitted_at"] is None:
                self._check_complete(db, case)
                request = R.CaseRequest.model_validate_json(case["request"])
                item = self._item(case["item_code"])
                now = time.time()
                promised = rules.promised_date(rules.local_day(now), 0 if item.on_the_spot else item.time_limit_days)
                code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
                db.execute("UPDATE cases SET submitted_at = ?, fate = ?, pace = ?, promised_date = ?,"
                           " verification_code = ? WHERE case_no = ?",
                           (now, rules.fate(request.applicant.id_number, request.form),
                            0.0 if item.on_the_spot else self.pace, promised.isoformat(), code, case_no))
                case = self._case(db, terminal, case_no)
        view = self._view(case)
        return {"case_no": case_no, "status": view["status"], "promised_date": case["promised_date"],
                "on_the_spot": self._item(case["item_code"]).on_the_spot, "submitted_at": rules.iso(case["submitted_at"])}

    @staticmethod
    def _check_complete(db: sqlite3.Connection, case: sqlite3.Row) -> None:
        done = {(r[0], r[1]) for r in db.execute(
            "SELECT idx, page FROM uploads WHERE case_no = ? AND complete = 1", (case["case_no"],))}
        missing = [f"{m.name}第{p}页" for m in R.CaseRequest.model_validate_json(case["request"]).materials
                   for p in range(1, m.pages + 1) if (m.index, p) not in done]
        if missing:
            more = f"等{len(missing)}页" if len(missing) > 3 else ""
            raise ApiError(409, "materials_incomplete", f"以下材料尚未上传完整：{'、'.join(missing[:3])}{more}。")

    def case(self, case_no: str) -> dict:
        with self._lock:
            return self._view(self._case(self._db, None, case_no))

    def cases_for(self, raw: dict) -> list[dict]:
        request = R.SearchRequest.model_validate(raw)
        rows = self._rows("SELECT * FROM cases WHERE id_number = ? AND submitted_at IS NOT NULL"
                          " ORDER BY submitted_at DESC", (request.id_number,))
        return [self._view(row) for row in rows]

    def _view(self, case: sqlite3.Row) -> dict:
        item = self.catalog.get(case["item_code"])
        steps = [] if case["submitted_at"] is None else rules.history(
            case["fate"], case["submitted_at"], case["pace"], time.time())
        status = steps[-1].status if steps else "draft"
        return {
            "case_no": case["case_no"], "item_code": case["item_code"], "item_name": item.name if item else "",
            "status": status,
            "history": [{"at": rules.iso(s.at), "status": s.status, "note": s.note} for s in steps],
            "promised_date": case["promised_date"],
            "reason": steps[-1].note if status == "rejected" else "",
            "certificate": {"ready": status == "completed",
                            "verification_code": case["verification_code"] if status == "completed" else ""},
        }

    def certificate(self, case_no: str) -> tuple[bytes, str]:
        with self._lock:
            case = self._case(self._db, None, case_no)
        view = self._view(case)
        if view["status"] != "completed":
            raise ApiError(409, "certificate_not_ready", "办件尚未办结，暂无办理结果。")
        request = R.CaseRequest.model_validate_json(case["request"])
        item = self._item(case["item_code"])
        completed = datetime.fromisoformat(view["history"][-1]["at"]).date()
        pdf = certificate_pdf(CertificateFacts(
            case_no=case_no, item_name=item.name, handling_body=item.handling_body, applicant=request.applicant.name,
            id_number=request.applicant.id_number, completed_on=completed,
            verification_code=case["verification_code"]))
        return pdf, case["verification_code"]

    # -- evaluations, complaints, appointments -----------------------------------------
    def evaluate(self, terminal: str, key: str, raw: dict) -> tuple[int, dict]:
        request = R.EvaluationRequest.model_validate(raw)
        return self.once(terminal, key, raw, lambda db: self._record(db, "evaluation", "PJ", terminal, request))

    def complain(self, terminal: str, key: str, raw: dict) -> tuple[int, dict]:
        request = R.ComplaintRequest.model_validate(raw)
        return self.once(terminal, key, raw, lambda db: self._record(db, "complaint", "TS", terminal, request))

    def _record(self, db: sqlite3.Connection, kind: str, letters: str, terminal: str, request: R.EvaluationRequest,
                ) -> tuple[int, dict]:
        if request.case_no:
            self._case(db, None, request.case_no)
        now = time.time()
        no = self._number(db, kind, letters, now)
        db.execute("INSERT INTO records (no, kind, terminal, body, at) VALUES (?, ?, ?, ?, ?)",
                   (no, kind, terminal, request.model_dump_json(), now))
        if kind == "complaint":
            return 201, {"complaint_no": no, "status": "registered", "received_at": rules.iso(now)}
        return 201, {"evaluation_no": no, "received_at": rules.iso(now)}

    @staticmethod
    def _number(db: sqlite3.Connection, kind: str, letters: str, now: float) -> str:
        prefix = letters + rules.local_day(now).strftime("%Y%m%d")
        seq = db.execute("SELECT count(*) FROM records WHERE kind = ? AND no LIKE ?",
                         (kind, prefix + "%")).fetchone()[0] + 1
        return f"{prefix}{seq:05d}"

    def slots(self, window: str, day: str) -> list[dict]:
        when = _day(day)
        w = self._window(window)
        if when.weekday() >= 5:
            return []
        booked = dict(self._rows("SELECT slot_id, count(*) FROM records WHERE kind = 'booking' AND slot_id LIKE ?"
                                 " GROUP BY slot_id", (f"S{when:%Y%m%d}%W{w:02d}",)))
        out = []
        for hhmm in SLOT_TIMES:
            start = datetime.combine(when, datetime.strptime(hhmm, "%H:%M").time()).astimezone()
            slot_id = f"S{start:%Y%m%d%H%M}W{w:02d}"
            free = 0 if start.timestamp() < time.time() else SLOT_CAPACITY - booked.get(slot_id, 0)
            out.append({"slot_id": slot_id, "window": window, "start": start.isoformat(timespec="seconds"),
                        "end": (start + timedelta(minutes=SLOT_MINUTES)).isoformat(timespec="seconds"),
                        "free": max(free, 0)})
        return out

    @staticmethod
    def _window(window: str) -> int:
        if window not in WINDOWS:
            raise ApiError(422, "unknown_window", f"窗口“{window[:20]}”不存在。")
        return WINDOWS.index(window)

    def book(self, terminal: str, key: str, raw: dict) -> tuple[int, dict]:
        request = R.Booking.model_validate({"request": raw}).request
        if isinstance(request, R.WindowBooking):
            return self.once(terminal, key, raw, lambda db: self._book_window(db, terminal, request))
        return self.once(terminal, key, raw, lambda db: self._book_visit(db, terminal, request))

    def _book_window(self, db: sqlite3.Connection, terminal: str, request: R.WindowBooking) -> tuple[int, dict]:
        slot_id = request.slot.slot_id
        slot = next((s for s in self.slots(request.window, _slot_day(slot_id)) if s["slot_id"] == slot_id), None)
        if slot is None:
            raise ApiError(422, "unknown_slot", "预约时段不存在，请重新选择。")
        taken = db.execute("SELECT count(*) FROM records WHERE kind = 'booking' AND slot_id = ?", (slot_id,)).fetchone()[0]
        if taken >= SLOT_CAPACITY or datetime.fromisoformat(slot["start"]).timestamp() < time.time():
            raise ApiError(409, "slot_full", "该时段已约满或已过，请选择其他时段。")
        now = time.time()
        no = self._number(db, "booking", "YY", now)
        db.execute("INSERT INTO records VALUES (?, 'booking', ?, ?, ?, ?)",
                   (no, terminal, request.model_dump_json(), now, slot_id))
        return 201, {"booking_no": no, "kind": "window", "status": "booked", "start": slot["start"], "day": None}

    def _book_visit(self, db: sqlite3.Connection, terminal: str, request: R.HomeVisitBooking) -> tuple[int, dict]:
        today = date.today()
        when = _day(request.day) if request.day else rules.promised_date(today, 2)
        if when <= today or when.weekday() >= 5:
            raise ApiError(422, "bad_day", "上门服务日期须为今天以后的工作日。")
        now = time.time()
        no = self._number(db, "booking", "YY", now)
        db.execute("INSERT INTO records (no, kind, terminal, body, at) VALUES (?, 'booking', ?, ?, ?)",
                   (no, terminal, request.model_dump_json(), now))
        return 201, {"booking_no": no, "kind": "home_visit", "status": "booked", "start": None,
                     "day": when.isoformat()}

    # -- admin ---------------------------------------------------------------------------
    def summary(self) -> dict:
        """Every case (without personal data) and the count of each kind of record: for tests."""
        rows = self._rows("SELECT c.case_no, c.terminal, c.ref, c.item_code, c.submitted_at,"
                          " (SELECT count(*) FROM uploads u WHERE u.case_no = c.case_no AND u.complete = 1) AS pages"
                          " FROM cases c ORDER BY c.created_at")
        cases = [{"case_no": r["case_no"], "terminal": r["terminal"], "ref": r["ref"], "item_code": r["item_code"],
                  "submitted": r["submitted_at"] is not None, "pages": r["pages"]} for r in rows]
        records = dict(self._rows("SELECT kind, count(*) FROM records GROUP BY kind"))
        return {"cases": cases, "records": records}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "invalid_request", f"日期格式应为 YYYY-MM-DD：{text[:20]}") from None


def _slot_day(slot_id: str) -> str:
    digits = slot_id[1:9]
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
