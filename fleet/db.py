"""The manager's database: an engine from a URL, sessions, and the schema.

SQLite by default (``sqlite:///fleet.db``), in WAL mode so the web server reads while
ingest writes; PostgreSQL by URL (``postgresql+psycopg://user@host/fleet``, the
``postgres`` extra). ``insert`` is the dialect's INSERT with ``ON CONFLICT``, which both
support, for idempotent writes.
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Engine, any_, bindparam, create_engine, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from fleet import migrations

DEFAULT_URL = "sqlite:///fleet.db"
WAL_WAIT_S = 30.0


def _normalise(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the ``postgres`` extra), not psycopg2."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions begin in _sqlite_begin, not in the driver
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _wal(cursor: Any) -> None:
    """WAL mode, which stays with the file once set. Switching takes a lock SQLite does not wait
    for: processes opening a new file at once find it locked, so they try again a while."""
    deadline = time.monotonic() + WAL_WAIT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # an in-memory database stays "memory"
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_begin(conn: Any) -> None:
    """A writer takes the write lock at BEGIN (IMMEDIATE): one that read first and then found another
    writer had committed would fail at once; readers begin DEFERRED and never block ingest."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")


def make_engine(url: str = DEFAULT_URL, **kwargs: Any) -> Engine:
    url = _normalise(url)
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):  # one shared connection, or each sees its own empty db
            kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if not url.startswith("postgresql"):
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://…")
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def among(session: Session, column: Any, values: Any) -> ColumnElement[bool]:
    """``column IN values``. On PostgreSQL ``column = ANY(array)``: one parameter, not one per value, so
    the statement's text is the same for any number of values (the driver parses and prepares it once)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


class Database:
    """An engine and its session factory; ``create()`` brings the schema to the newest revision."""

    def __init__(self, url: str = DEFAULT_URL, **engine_kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.writers = sessionmaker(self.engine.execution_options(writer=True), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create(self) -> Database:
        """Migrate the schema to ``fleet.migrations.head()`` (see there); safe in several processes at once."""
        migrations.upgrade(self.engine)
        return self

    @contextlib.contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A session committed at the end of the block, rolled back on an exception. ``write``:
        it will write, so on SQLite it holds the write lock from the start (other writers wait)."""
        with (self.writers if write else self.sessions)() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def insert(self, table: Any) -> Any:
        """INSERT for this dialect, with ``on_conflict_do_nothing`` / ``on_conflict_do_update``;
        of a mapped class, into its table (plain Core, without the ORM's bulk machinery)."""
        return (sqlite.insert if self.dialect == "sqlite" else postgresql.insert)(getattr(table, "__table__", table))

    def insert_rows(self, table: Any, rows: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]] | None]:
        """``insert(table)`` for ``rows`` (dicts with the same keys) and the parameters to execute it with.
        On PostgreSQL the rows go as one array per column (``INSERT … SELECT FROM unnest(…)``): a
        statement of one text however many rows, where a multi-row VALUES with RETURNING would cost
        the driver a parse of thousands of placeholders. Chain ``on_conflict_*`` / ``returning`` to it."""
        stmt = self.insert(table)
        if self.dialect != "postgresql":
            return stmt, rows
        columns = getattr(table, "__table__", table).c
        keys = list(rows[0])
        arrays = [bindparam(k, [r[k] for r in rows], type_=postgresql.ARRAY(columns[k].type)) for k in keys]
        return stmt.from_select(keys, select(func.unnest(*arrays).table_valued(*keys).render_derived())), None

    def update_rows(self, table: Any, rows: list[dict[str, Any]], keys: tuple[str, ...]) -> tuple[Any, list | None]:
        """``update(table)`` of ``rows`` (dicts with the same keys), each row matched on its ``keys``
        columns, and the parameters to execute it with. On PostgreSQL one statement of one array
        per column (``UPDATE … FROM unnest(…)``), not one execution per row."""
        target = getattr(table, "__table__", table)
        columns = target.c
        if self.dialect != "postgresql":
            match = [columns[k] == bindparam(f"_{k}") for k in keys]
            return update(target).where(*match), [{(f"_{k}" if k in keys else k): v for k, v in row.items()}
                                                  for row in rows]
        names = list(rows[0])
        arrays = [bindparam(f"_{n}", [r[n] for r in rows], type_=postgresql.ARRAY(columns[n].type)) for n in names]
        given = func.unnest(*arrays).table_valued(*names).render_derived(name="given")
        return (update(target).where(*(columns[k] == given.c[k] for k in keys))
                .values({n: given.c[n] for n in names if n not in keys})), None

    def close(self) -> None:
        self.engine.dispose()
