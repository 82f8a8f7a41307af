"""The terminal's durable store: one SQLite database and the sealed scan files beside it.

WAL journal with ``synchronous=FULL``: a transaction that has committed survives a power
cut. The schema grows by ordered migration steps; ``schema_version`` holds how many ran.
Personal fields are sealed by the callers (``kiosk.sealed``) before they reach a row;
scans are sealed files under ``materials/`` referenced by path and SHA-256.

One connection, shared by the threads of the process under a lock; other processes
(``kiosk outbox status``) read at the same time through WAL.
"""
from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kiosk.sealed import SealError, Sealer
from kiosk.store_options import DB_NAME

log = logging.getLogger(__name__)

MIGRATIONS: tuple[str, ...] = (
    # 1: cases with their materials, the outbox, the audit log
    """
    CREATE TABLE cases (
        ref TEXT PRIMARY KEY, case_no TEXT NOT NULL DEFAULT '', item_code TEXT NOT NULL,
        item_name TEXT NOT NULL, status TEXT NOT NULL, applicant BLOB, person TEXT,
        promised_date TEXT NOT NULL, submitted_at TEXT NOT NULL, delivered_at TEXT, purged_at TEXT,
        reason TEXT NOT NULL DEFAULT '');
    CREATE INDEX cases_person ON cases (person);
    CREATE INDEX cases_case_no ON cases (case_no);
    CREATE TABLE materials (
        ref TEXT NOT NULL REFERENCES cases (ref), idx INTEGER NOT NULL, name TEXT NOT NULL,
        page INTEGER NOT NULL, path TEXT, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
        PRIMARY KEY (ref, idx, page));
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE, ref TEXT NOT NULL,
        payload BLOB, progress TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0, next_try_at REAL NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, delivered_at REAL);
    CREATE INDEX outbox_due ON outbox (state, next_try_at, id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
    """,
    # 2: evaluations, complaints, appointments; the last known state of every case asked about
    """
    CREATE TABLE evaluations (
        ref TEXT PRIMARY KEY, case_ref TEXT NOT NULL, level TEXT NOT NULL, followup TEXT NOT NULL,
        problems TEXT NOT NULL, private BLOB, created_at TEXT NOT NULL, purged_at TEXT);
    CREATE TABLE complaints (
        ref TEXT PRIMARY KEY, evaluation_ref TEXT NOT NULL, complaint_no TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL);
    CREATE TABLE appointments (
        ref TEXT PRIMARY KEY, details BLOB, booking_no TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL, purged_at TEXT);
    CREATE TABLE case_status (
        case_no TEXT PRIMARY KEY, person TEXT, view TEXT NOT NULL, checked_at TEXT NOT NULL);
    CREATE INDEX case_status_person ON case_status (person);
    """,
    # 3: a value sealed with the store's key, so a different key is refused when the store opens
    """
    CREATE TABLE key_check (sealed BLOB NOT NULL);
    """,
)
KEY_CHECK = b"village kiosk store"


class StoreError(Exception):
    """The store cannot be opened: a database from a newer version, or no sealing key."""


class Store:
    """``transaction()`` for writes, ``rows``/``row`` for reads; ``sealer`` for personal fields."""

    def __init__(self, directory: Path | str, sealer: Sealer | None = None, *, upto: int | None = None):
        self.dir = Path(directory)
        self.files = self.dir / "materials"
        self.files.mkdir(parents=True, exist_ok=True)
        self._sealer = sealer
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.dir / DB_NAME, isolation_level=None, check_same_thread=False,
                                     timeout=30.0)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self.version = migrate(self._conn, upto)
        if sealer is not None and self.version >= 3:
            self._check_key(sealer)

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            raise StoreError(f"{self.dir}: opened without the key; personal data cannot be read or written")
        return self._sealer

    def _check_key(self, sealer: Sealer) -> None:
        """The first key seals a known value; any other key fails to open it (``SealError``)."""
        sealed = self.value("SELECT sealed FROM key_check")
        if sealed is None:
            with self.transaction() as tx:
                tx.execute("INSERT INTO key_check VALUES (?)", (sealer.seal(KEY_CHECK, "key_check"),))
        elif sealer.open(sealed, "key_check") != KEY_CHECK:
            raise SealError(f"{self.dir}: the key check opened to something else")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed (durably) when the block ends, rolled back on an error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def rows(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def row(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def value(self, sql: str, params: tuple | dict = ()) -> Any:
        found = self.row(sql, params)
        return found[0] if found else None

    # -- sealed files ---------------------------------------------------------------
    def material_path(self, ref: str, index: int, page: int) -> Path:
        return self.files / ref / f"{index:02d}-{page:03d}.sealed"

    def remove_files(self, ref: str) -> None:
        shutil.rmtree(self.files / ref, ignore_errors=True)

    def remove_orphan_files(self) -> None:
        """Scan files of a submission that died before its commit: nothing refers to them."""
        for folder in self.files.iterdir():
            if not self.row("SELECT 1 FROM materials WHERE ref = ? AND path IS NOT NULL", (folder.name,)):
                log.info("store: removing scans of %s, which was never committed", folder.name)
                self.remove_files(folder.name)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def migrate(conn: sqlite3.Connection, upto: int | None = None) -> int:
    """Run the migration steps not yet run (up to step ``upto``); the schema version after."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    if conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 0:
        conn.execute("INSERT INTO schema_version VALUES (0)")
    version = conn.execute("SELECT version FROM schema_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(f"the store's schema is version {version}; this software knows up to {len(MIGRATIONS)}")
    target = len(MIGRATIONS) if upto is None else upto
    for number in range(version + 1, target + 1):
        try:
            conn.executescript("BEGIN IMMEDIATE;" + MIGRATIONS[number - 1]
                               + f";UPDATE schema_version SET version = {number}; COMMIT;")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("store: schema migrated to version %d", number)
    return max(version, target)
