"""The kiosk's side of the fleet protocol (../shared/spec/fleet-protocol.md) over MQTT.

``FleetAgent`` keeps a persistent session with the broker (MQTT 5, or 3.1.1 when the
broker refuses 5 or the config asks for it), publishes its retained state with a last
will, health every interval and at once on any device change, metrics from
``Counters``, events, and runs jobs (``kiosk.fleet_jobs``). Events, metrics and job
statuses produced while offline wait in an on-disk buffer. Nothing blocks the caller:
work happens on paho's network thread and one worker thread of the agent.
"""
from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes

from drivers.base import Device, StatusChange
from fleet import protocol as p
from kiosk.fleet_buffer import Buffered, OfflineBuffer
from kiosk.fleet_counters import Counters
from kiosk.fleet_jobs import JobHooks, JobRunner, JobStore
from kiosk.fleet_options import FleetOptions
from kiosk.fleet_system import SystemReader

log = logging.getLogger(__name__)
DRAIN_BATCH = 50
PUBLISH_WAIT_S = 10.0


class DevicesLike(Protocol):
    def __iter__(self) -> Iterable[Device]: ...
    def subscribe(self, callback: Callable[[StatusChange], None]) -> Any: ...


class FleetAgent:
    def __init__(self, terminal: str, options: FleetOptions, *, station: str = "", version: str = "",
                 devices: DevicesLike | None = None, counters: Counters | None = None,
                 hooks: JobHooks = JobHooks(), system: Callable[[], p.SystemHealth] | None = None):
        self.id = p.check_id(terminal, "terminal id")
        self.options, self.station, self.version = options, station, version
        self.devices, self.counters = devices, counters or Counters()
        self.boot_id = uuid.uuid4().hex[:16]
        self._system = system or SystemReader(options.buffer_dir)
        directory = Path(options.buffer_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self.buffer = OfflineBuffer(directory, options.buffer_max_bytes)
        self._lock = threading.Lock()
        self._seq = 0
        self._conn = 0
        self._state = "online"
        self._connected = False
        self._last_sent: mqtt.MQTTMessageInfo | None = None
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._tls = ssl.create_default_context(cafile=options.ca_file or None)
        if options.cert_file:
            self._tls.load_cert_chain(options.cert_file, options.key_file or None)
        self.jobs = JobRunner(JobStore(directory / "jobs.json"), hooks, self._job_status,
                              self._set_maintenance, self._tls, options.allowed_upload_hosts)
        self._protocol = mqtt.MQTTv5 if options.mqtt_version == "5" else mqtt.MQTTv311
        self._will = self._state_message("offline")  # seq 0: a will takes its seq before its birth
        self._client = self._make_client()
        self._worker = threading.Thread(target=self._work, name="fleet-agent", daemon=True)
        if devices is not None:
            devices.subscribe(self._device_changed)

    # -- public ---------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def state(self) -> str:
        return self._state

    def start(self) -> None:
        """Connect in the background and begin the timers; returns at once."""
        self.jobs.resume()
        self._worker.start()
        self._connect()

    def stop(self, timeout: float = 5.0) -> None:
        """Say ``offline`` (retained), disconnect, and stop the worker."""
        self._tasks.put(None)
        self._worker.join(timeout)
        if self._connected:
            info = self._client.publish(p.state_topic(self.id), self._state_message("offline"), qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                pass
        self._client.disconnect()
        self._client.loop_stop()

    def set_state(self, state: str) -> None:
        """``online``, ``maintenance`` or ``out_of_service``: published retained at once."""
        if state not in p.STATES or state == "offline":
            raise ValueError(f"not a state a kiosk sets: {state!r}")
        with self._lock:
            changed, self._state = self._state != state, state
        if changed:
            self._tasks.put(self._publish_state)

    def emit(self, type: str, severity: str, device: str = "", message: str = "") -> None:
        """Send an event (``printer.paper_out``, ``warning``, ``receipt``, text); buffered when offline."""
        if not p.EVENT_TYPE.fullmatch(type) or severity not in p.SEVERITIES:
            raise ValueError(f"bad event type {type!r} or severity {severity!r}")
        event = p.Event(self._stamp(), type, severity, device, message)
        self._tasks.put(lambda: self._send(p.events_topic(self.id), event.to_json(), buffered=True))

    def then(self, action: Callable[[], None]) -> None:
        """Run ``action`` on the worker after the work queued so far, once what that work
        published has reached the broker (when offline it waits in the buffer already)."""
        def task() -> None:
            sent = self._last_sent
            if sent is not None:
                try:
                    sent.wait_for_publish(PUBLISH_WAIT_S)  # QoS 1 is acknowledged in order
                except (RuntimeError, ValueError):
                    pass
            action()
        self._tasks.put(task)

    # -- messages -------------------------------------------------------------------------
    def _stamp(self) -> p.Stamp:
        with self._lock:
            seq, self._seq = self._seq, self._seq + 1
        return p.Stamp(p.now(), seq, self.boot_id)

    def _state_message(self, state: str) -> bytes:
        return p.State(self._stamp(), state, self._conn, self.version, self.station, self.options.groups).to_json()

    def _publish_state(self) -> None:
        if self._connected:  # else it goes out on connecting (a seq only for a message sent)
            self._send(p.state_topic(self.id), self._state_message(self._state), retain=True)

    def _health(self, qos: int) -> None:
        if not self._connected:  # not buffered, and sent on connecting: a seq only for a message sent
            return
        devices = {d.name: p.DeviceHealth(d.kind, d.state.status.value, dict(d.state.detail))
                   for d in (self.devices or ())}
        health = p.Health(self._stamp(), devices, self._system())
        self._send(p.health_topic(self.id), health.to_json(), qos=qos)

    def _metrics(self) -> None:
        self._send(p.metrics_topic(self.id), self.counters.take(self._stamp()).to_json(), buffered=True)

    def _job_status(self, job: str, status: str, progress: int, detail: dict[str, Any]) -> None:
        message = p.JobStatus(self._stamp(), job, status, progress, detail).to_json()
        self._send(p.job_status_topic(self.id, job), message, buffered=True)

    def _send(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, buffered: bool = False) -> None:
        """Publish now if connected; else keep it in the buffer (``buffered``) or let it go."""
        if self._connected:
            info = self._client.publish(topic, payload, qos=qos, retain=retain)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._last_sent = info
                return
        if buffered:
            self.buffer.put(Buffered(topic, payload, qos))

    def _set_maintenance(self, on: bool) -> None:
        self.set_state("maintenance" if on else "online")

    def _device_changed(self, change: StatusChange) -> None:
        self._tasks.put(lambda: self._health(qos=1))

    # -- the worker: timers, jobs, draining the buffer --------------------------------------
    def _work(self) -> None:
        now = time.monotonic()
        due = {"health": now, "metrics": now + self.options.metrics_interval_s}
        while True:
            try:
                task = self._tasks.get(timeout=max(0.0, min(due.values()) - time.monotonic()))
            except queue.Empty:
                self._tick(due)
                continue
            if task is None:
                return
            try:
                task()
            except Exception:
                log.exception("fleet agent: a task failed")

    def _tick(self, due: dict[str, float]) -> None:
        now = time.monotonic()
        try:
            if now >= due["health"]:
                due["health"] = now + self.options.health_interval_s
                self._health(qos=0)
            if now >= due["metrics"]:
                due["metrics"] = now + self.options.metrics_interval_s
                self._metrics()
        except Exception:
            log.exception("fleet agent: a periodic message failed")

    def _drain(self) -> None:
        """Send what waited on disk, oldest first, a batch at a time, each batch acknowledged."""
        dropped = self.buffer.take_dropped()
        if dropped:
            self.emit("fleet.buffer_dropped", "warning", "",
                      f"{dropped} messages produced while offline were dropped (buffer full)")
        while self._connected and len(self.buffer):
            batch = self.buffer.peek(DRAIN_BATCH)
            infos = [self._client.publish(m.topic, m.payload, qos=m.qos) for m in batch]
            try:
                for info in infos:
                    info.wait_for_publish(PUBLISH_WAIT_S)
            except (RuntimeError, ValueError):
                return  # the connection went; the rest waits for the next one
            if not all(info.is_published() for info in infos):
                return
            self.buffer.remove(len(batch))
            log.info("fleet: sent %d buffered messages", len(batch))

    # -- MQTT ------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        v5 = self._protocol == mqtt.MQTTv5
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.id, protocol=self._protocol,
                             clean_session=None if v5 else False, reconnect_on_failure=True)
        url = urlsplit(self.options.broker)
        client.username_pw_set(self.options.username or self.id, self._password())
        if url.scheme == "mqtts":
            client.tls_set_context(self._tls)
        client.reconnect_delay_set(1, 60)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._set_will(client)
        return client

    def _password(self) -> str | None:
        if not self.options.password_file:
            return None
        return Path(self.options.password_file).read_text(encoding="utf-8").strip()

    def _set_will(self, client: mqtt.Client) -> None:
        client.will_set(p.state_topic(self.id), self._will, qos=1, retain=True)

    def _connect(self) -> None:
        url = urlsplit(self.options.broker)
        port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        kwargs: dict[str, Any] = {}
        if self._protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = p.SESSION_EXPIRY_S
            kwargs = {"clean_start": False, "properties": props}
        self._client.connect_async(url.hostname, port, self.options.keepalive_s, **kwargs)
        self._client.loop_start()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("fleet: the broker refused the connection: %s", reason)
            if self._protocol == mqtt.MQTTv5 and reason.value == 132:  # unsupported protocol version
                self._tasks.put(self._fall_back)
            return
        self._connected = True
        log.info("fleet: connected to %s as %s (conn %d)", self.options.broker, self.id, self._conn)
        topics = [p.jobs_filter(self.id), *(p.group_jobs_filter(g) for g in self.options.groups)]
        client.subscribe([(t, 1) for t in topics])
        self._tasks.put(self._publish_state)
        self._tasks.put(lambda: self._health(qos=1))
        self._tasks.put(self._drain)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        was, self._connected = self._connected, False
        if was:
            log.warning("fleet: disconnected from the broker: %s", reason)
            self._conn += 1
            self._will = self._state_message("offline")  # the next connection's will carries its own conn
            self._set_will(client)

    def _fall_back(self) -> None:
        log.warning("fleet: the broker does not speak MQTT 5; using 3.1.1")
        self._client.loop_stop()
        self._protocol = mqtt.MQTTv311
        self._client = self._make_client()
        self._connect()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = p.Topic.parse(message.topic)
        except p.ProtocolError as exc:
            log.warning("fleet: ignoring a message on %r: %s", message.topic[:100], exc)
            return
        if topic.kind not in ("job", "group_job") or (topic.kind == "job" and topic.kiosk != self.id):
            log.warning("fleet: ignoring a message on %s", message.topic)
            return
        job = self.jobs.receive(topic.job, message.payload)
        if job is not None:
            self._tasks.put(lambda: self.jobs.run(job))
