"""Store and forward to the platform, exactly once: the outbox and its worker thread.

A message (a case, an evaluation, a complaint, an appointment) is inserted in the same
transaction as the record it forwards, so once that commits it will be delivered. The
worker takes the oldest due message, marks it ``delivering`` and hands it to its kind's
handler (``kiosk.deliveries``). Every call to the platform carries the message's
idempotency key (or is idempotent by nature), so a step repeated after a crash between
the platform's answer and our commit does nothing twice.

Faults: ``Unavailable`` (no line, 5xx, timeouts) puts the message back and pauses the
whole outbox with an exponential, capped backoff with jitter — the platform is down, not
the message; a new message nudges the worker out of the pause, and the first success
after an outage makes every waiting message due at once. ``Rejected`` and anything that
cannot be read (a damaged row or file) mark the message ``failed`` with a log line: the
worker itself never dies. ``delivering`` left by a crash is taken up again on start.
"""
from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk import crashpoints
from kiosk.store import Store
from kiosk.upstream.client import Rejected, Unavailable, Upstream

log = logging.getLogger(__name__)
PENDING, DELIVERING, DELIVERED, FAILED = "pending", "delivering", "delivered", "failed"
STATES = (PENDING, DELIVERING, DELIVERED, FAILED)
HOUSEKEEPING_S = 3600.0


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    key: str  # the idempotency key: unique, sent with every call that creates something
    ref: str  # the local record it forwards
    payload: bytes | None  # sealed by the caller
    progress: dict[str, Any]  # what earlier attempts got done (e.g. the platform's case number)
    attempts: int


class Deferred(Exception):
    """The message waits for another one (its case is not on the platform yet)."""


class Handler(Protocol):
    def __call__(self, outbox: Outbox, upstream: Upstream, message: Message) -> None: ...


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts: ``base_s`` doubling per failure up to ``cap_s``, times 0.5–1 (jitter)."""

    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, failures: int) -> float:
        return min(self.cap_s, self.base_s * 2 ** min(max(failures - 1, 0), 32)) * random.uniform(0.5, 1.0)


def status(store: Store) -> dict[str, Any]:
    """``{"pending", "delivering", "delivered", "failed", "oldest_pending_age_s"}``."""
    counts = dict.fromkeys(STATES, 0)
    counts.update(store.rows("SELECT state, count(*) FROM outbox GROUP BY state"))
    oldest = store.value("SELECT min(created_at) FROM outbox WHERE state IN (?, ?)", (PENDING, DELIVERING))
    return {**counts, "oldest_pending_age_s": None if oldest is None else round(max(time.time() - oldest, 0.0), 1)}


class Outbox:
    """The worker: ``start``, ``nudge`` when something was queued, ``wait`` for one message, ``close``."""

    def __init__(self, store: Store, handlers: dict[str, Handler], upstream: Callable[[], Upstream], *,
                 on_pending: Callable[[int], None] | None = None,
                 on_stuck: Callable[[int, float], None] | None = None, stuck_after_s: float = 3600.0,
                 housekeeping: Callable[[], None] | None = None, backoff: Backoff = Backoff()):
        self.store = store
        self._handlers = handlers
        self._make_upstream = upstream
        self._upstream: Upstream | None = None
        self._on_pending = on_pending
        self._on_stuck = on_stuck
        self._stuck_after_s = stuck_after_s
        self._stuck = False
        self._housekeeping = housekeeping
        self._housekept_at = 0.0
        self._backoff = backoff
        self._outage = 0  # Unavailable answers in a row
        self._paused_until = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- the caller's side ----------------------------------------------------------
    @staticmethod
    def enqueue(tx: sqlite3.Connection, kind: str, key: str, ref: str, payload: bytes | None) -> None:
        """Queue a message inside the caller's transaction (then ``nudge``)."""
        tx.execute("INSERT INTO outbox (kind, key, ref, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                   (kind, key, ref, payload, time.time()))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def nudge(self) -> None:
        """Something was queued: try now, even while paused after an outage."""
        self._paused_until = 0.0
        self._wake.set()

    def wait(self, key: str, timeout: float) -> str:
        """Wait up to ``timeout`` s until message ``key`` has been tried; its state then."""
        deadline = time.monotonic() + timeout
        with self._changed:
            first = None  # the attempts count before the attempt waited for
            while True:
                row = self.store.row("SELECT state, attempts FROM outbox WHERE key = ?", (key,))
                if row is None:
                    return FAILED
                if first is None:
                    first = row["attempts"] - (row["state"] == DELIVERING)
                if row["state"] in (DELIVERED, FAILED) or (row["state"] == PENDING and row["attempts"] > first):
                    return row["state"]
                left = deadline - time.monotonic()
                if left <= 0:
                    return row["state"]
                self._changed.wait(left)

    # -- the handlers' side ---------------------------------------------------------
    def save_progress(self, message: Message, also: Callable[[sqlite3.Connection], None] | None = None,
                      **progress: Any) -> Message:
        """Record a step done (with the handler's own updates ``also``, in one transaction)."""
        merged = {**message.progress, **progress}
        with self.store.transaction() as tx:
            tx.execute("UPDATE outbox SET progress = ? WHERE id = ?", (json.dumps(merged), message.id))
            if also:
                also(tx)
        return Message(**{**message.__dict__, "progress": merged})

    def finish(self, message: Message, also: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """The message is delivered; ``also`` records the platform's answer in the same commit."""
        with self.store.transaction() as tx:
            tx.execute("UPDATE outbox SET state = ?, delivered_at = ?, last_error = '' WHERE id = ?",
                       (DELIVERED, time.time(), message.id))
            if also:
                also(tx)
        crashpoints.point(f"{message.kind}.committed")

    def fail(self, message: Message, error: str, also: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """The message will never go through as it is (rejected, damaged)."""
        log.error("outbox: %s message %s failed: %s", message.kind, message.ref, error)
        with self.store.transaction() as tx:
            tx.execute("UPDATE outbox SET state = ?, last_error = ? WHERE id = ?", (FAILED, error[:500], message.id))
            if also:
                also(tx)

    # -- the worker -----------------------------------------------------------------
    def _run(self) -> None:
        with self.store.transaction() as tx:  # taken up where a crash left them
            tx.execute("UPDATE outbox SET state = ? WHERE state = ?", (PENDING, DELIVERING))
        while not self._stop.is_set():
            try:
                self._keep_house()
                worked = self.run_once()
                self._report()
            except Exception:  # noqa: BLE001 — the worker outlives anything one message does
                log.exception("outbox: unexpected error; trying again shortly")
                worked = False
                self._stop.wait(1.0)
            if not worked:
                self._wake.wait(self._idle_s())
                self._wake.clear()

    def run_once(self) -> bool:
        """Deliver the oldest due message; False when none is due (or the outbox is paused)."""
        now = time.time()
        if now < self._paused_until:
            return False
        row = self.store.row("SELECT * FROM outbox WHERE state = ? AND next_try_at <= ? ORDER BY id LIMIT 1",
                             (PENDING, now))
        if row is None:
            return False
        with self.store.transaction() as tx:
            tx.execute("UPDATE outbox SET state = ?, attempts = attempts + 1 WHERE id = ?", (DELIVERING, row["id"]))
        crashpoints.point(f"{row['kind']}.taken")
        try:
            message = Message(row["id"], row["kind"], row["key"], row["ref"], row["payload"],
                              json.loads(row["progress"]), row["attempts"] + 1)
            if not isinstance(message.progress, dict):
                raise ValueError(f"progress is not a JSON object: {row['progress']!r}")
            self._deliver(message)
        except Exception as exc:  # noqa: BLE001 — a damaged message must not stop the others
            self.fail(_plain(row), f"{type(exc).__name__}: {exc}")
        finally:
            with self._changed:
                self._changed.notify_all()
        return True

    def _deliver(self, message: Message) -> None:
        handler = self._handlers.get(message.kind)
        if handler is None:
            raise ValueError(f"no handler for messages of kind {message.kind!r}")
        try:
            handler(self, self._platform(), message)
        except Unavailable as exc:
            self._outage += 1
            self._paused_until = time.time() + self._backoff.delay(self._outage)
            self._retry(message, f"unavailable: {exc}")
            return
        except Deferred as exc:
            self._retry(message, f"deferred: {exc}")
            return
        except Rejected as exc:
            self.fail(message, f"rejected: {exc}")
            return
        if self._outage:  # the platform is back: everything waiting is due now
            self._outage = 0
            with self.store.transaction() as tx:
                tx.execute("UPDATE outbox SET next_try_at = 0 WHERE state = ?", (PENDING,))

    def _retry(self, message: Message, error: str) -> None:
        log.info("outbox: %s message %s not delivered (attempt %d): %s", message.kind, message.ref,
                 message.attempts, error)
        with self.store.transaction() as tx:
            tx.execute("UPDATE outbox SET state = ?, next_try_at = ?, last_error = ? WHERE id = ?",
                       (PENDING, time.time() + self._backoff.delay(message.attempts), error[:500], message.id))

    def _platform(self) -> Upstream:
        if self._upstream is None:
            self._upstream = self._make_upstream()
        return self._upstream

    def _idle_s(self) -> float:
        """How long the worker may sleep: until the pause ends or the next message is due."""
        due = self.store.value("SELECT min(next_try_at) FROM outbox WHERE state = ?", (PENDING,))
        until = min(x for x in (self._paused_until or None, due, time.time() + 60.0) if x is not None)
        return min(max(until - time.time(), 0.05), 60.0)

    def _report(self) -> None:
        pending, oldest = self.store.row("SELECT count(*), min(created_at) FROM outbox WHERE state IN (?, ?)",
                                         (PENDING, DELIVERING))
        if self._on_pending:
            self._on_pending(pending)
        age = time.time() - oldest if oldest is not None else 0.0
        if age > self._stuck_after_s and not self._stuck:
            log.warning("outbox: %d messages pending, the oldest for %.0f s", pending, age)
            if self._on_stuck:
                self._on_stuck(pending, age)
        self._stuck = age > self._stuck_after_s

    def _keep_house(self) -> None:
        """The retention purge: when the worker starts, then every HOUSEKEEPING_S."""
        if self._housekeeping is None or (self._housekept_at and time.monotonic() - self._housekept_at < HOUSEKEEPING_S):
            return
        self._housekept_at = time.monotonic()
        self._housekeeping()


def _plain(row: sqlite3.Row) -> Message:
    """A message as far as a damaged row allows (for marking it failed)."""
    return Message(row["id"], str(row["kind"]), str(row["key"]), str(row["ref"]), None, {}, row["attempts"] + 1)
