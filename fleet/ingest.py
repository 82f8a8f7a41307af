"""Ingest: what kiosks publish, from the broker into the database.

An ``Ingest`` is one MQTT 5 client on shared subscriptions (``$share/fleet/kiosk/v1/+/…``):
several processes split the messages, each message going to one of them. paho's network
thread only queues what arrives; the worker takes everything queued (up to ``batch_max``),
validates each message through ``fleet.protocol`` (a malformed one costs one log line),
drops redeliveries (``SeqWindow``), writes the batch in one transaction (``fleet.writer``)
and only then acknowledges the messages: a crash before the commit leaves them with the
broker, which delivers them again.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.exc import OperationalError

from fleet import protocol as p
from fleet.broker import BrokerOptions
from fleet.db import Database
from fleet.writer import Incoming, Writer

log = logging.getLogger(__name__)
GROUP = "fleet"
FILTERS = tuple(f"{p.PREFIX}/+/{leaf}" for leaf in ("state", "health", "metrics", "events", "jobs/+/status"))
# Messages wait at the broker while an ingest process restarts; not much longer, because a shared
# subscription's member that never returns (fewer --ingest-processes) keeps its share queued until then.
SESSION_EXPIRY_S = 300
SNAPSHOT_S = 10.0  # how long the retained states are read at start
RETRY_S = 2.0


class SeqWindow:
    """The last ``WINDOW`` seqs of each device's boot as a bitmask (the anti-replay window of
    IPsec): a message delivered twice is seen as such. Far older ones pass; the database's
    unique keys catch what is appended."""

    WINDOW = 1024

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, int, int]] = {}  # kiosk -> (boot_id, highest seq, mask)

    def first_time(self, kiosk: str, boot_id: str, seq: int) -> bool:
        boot, top, mask = self._seen.get(kiosk, ("", -1, 0))
        if boot != boot_id:
            top, mask = seq, 1
        elif seq > top:
            mask = ((mask << min(seq - top, self.WINDOW)) | 1) & ((1 << self.WINDOW) - 1)
            top = seq
        elif top - seq < self.WINDOW:
            if mask >> (top - seq) & 1:
                return False
            mask |= 1 << (top - seq)
        self._seen[kiosk] = (boot_id, top, mask)
        return True


@dataclass
class Stats:
    received: int = 0
    malformed: int = 0
    duplicates: int = 0  # redeliveries dropped here, and appended messages stored before
    stale: int = 0
    written: int = 0
    batches: int = 0


@dataclass(frozen=True)
class Raw:
    topic: str
    payload: bytes
    received: Any  # datetime
    mid: int
    qos: int


class Ingest:
    def __init__(self, db: Database, broker: BrokerOptions, name: str = "fleet-ingest-0", *,
                 retained_snapshot: bool = False, batch_max: int = 2000, writer: Writer | None = None):
        self.db, self.broker, self.name = db, broker, name
        self.writer = writer or Writer(db)
        self.stats = Stats()
        self.batch_max = batch_max
        self._snapshot = retained_snapshot
        self._window = SeqWindow()
        self._queue: queue.Queue[Raw] = queue.Queue()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name=name, daemon=True)
        self._client = broker.client(name, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message

    def start(self) -> None:
        self._worker.start()
        # two batches unacknowledged: the next one arrives while this one is written
        self.broker.connect(self._client, SESSION_EXPIRY_S, receive_maximum=2 * self.batch_max)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what has arrived, then disconnect (what was not acknowledged is sent again later)."""
        self._stopping.set()
        self._worker.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        s = self.stats
        log.info("ingest %s stopped: %d received, %d written, %d duplicates, %d stale, %d malformed, %d batches",
                 self.name, s.received, s.written, s.duplicates, s.stale, s.malformed, s.batches)

    # -- MQTT (network thread) ---------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("ingest %s: the broker refused: %s", self.name, reason)
            return
        # Without retain handling 2, mosquitto (2.0.11) sends every retained state to each process at
        # each subscribe, though the subscription is shared: 10,000 duplicates per process and reconnect.
        shared = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)
        client.subscribe([(f"$share/{GROUP}/{f}", shared) for f in FILTERS])
        if self._snapshot:  # the retained states are read once, by one process, on a plain subscription
            self._snapshot = False
            client.subscribe(f"{p.PREFIX}/+/state", 1)
            timer = threading.Timer(SNAPSHOT_S, client.unsubscribe, (f"{p.PREFIX}/+/state",))
            timer.daemon = True
            timer.start()
        log.info("ingest %s: connected to %s", self.name, self.broker.url)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._queue.put(Raw(message.topic, message.payload, p.now(), message.mid, message.qos))

    # -- the worker ---------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=0.2)]
            except queue.Empty:
                if self._stopping.is_set():
                    return
                continue
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self.handle(batch)
            for raw in batch:
                if raw.qos:
                    self._client.ack(raw.mid, raw.qos)

    def handle(self, batch: list[Raw]) -> None:
        """Validate, de-duplicate and write ``batch``; returns when it is committed (or dropped)."""
        incoming = []
        for raw in batch:
            message = self._parse(raw)
            if message is None:
                continue
            stamp = message.stamp
            if self._window.first_time(message.topic.kiosk, stamp.boot_id, stamp.seq):  # type: ignore[arg-type]
                incoming.append(message)
            else:
                self.stats.duplicates += 1
        self.stats.received += len(batch)
        self.stats.batches += 1
        if incoming:
            self._commit(incoming)

    def _parse(self, raw: Raw) -> Incoming | None:
        try:
            topic, payload = p.parse_message(raw.topic, raw.payload)
            if topic.kiosk is None or topic.kind in ("job", "group_job"):
                raise p.ProtocolError("topic", "not a topic kiosks publish")
        except p.ProtocolError as exc:
            self.stats.malformed += 1
            log.warning("ingest: malformed message on %r dropped: %s", raw.topic[:120], exc)
            return None
        return Incoming(topic, payload, raw.received)

    def _commit(self, incoming: list[Incoming]) -> None:
        while True:
            try:
                written = self.writer.write(incoming)
            except OperationalError as exc:  # the database is away or locked: keep the batch, try again
                log.warning("ingest: the database refused a batch (%s); retrying", str(exc).splitlines()[0][:200])
                time.sleep(RETRY_S)
                continue
            except Exception:
                log.exception("ingest: a batch of %d failed; writing its messages one by one", len(incoming))
                if len(incoming) > 1:
                    for message in incoming:
                        self._commit([message])
                return
            self.stats.written += written.messages - written.duplicates
            self.stats.duplicates += written.duplicates
            self.stats.stale += written.stale
            return
