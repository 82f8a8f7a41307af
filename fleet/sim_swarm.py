"""Many simulated terminals in one process: one paho client each, all on one selector loop.

A paho client per terminal keeps the wire exact (MQTT 5, persistent session, last will,
QoS 1 acknowledgements), but a network thread per client would not scale to thousands.
``Swarm`` drives every client through paho's socket API (``loop_read``, ``loop_write``,
``loop_misc``) from one ``selectors`` loop, with one timer heap for every terminal's
health, metrics, faults and job steps. Offline periods end the connection with
"disconnect with will message" (MQTT 5 reason 4), so the broker publishes the will as if
the line had dropped; messages that must not be lost wait in a bounded buffer meanwhile.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import os
import queue
import random
import selectors
import ssl
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from fleet import protocol as p
from fleet import sim_upload
from fleet.sim_jobs import Step
from fleet.sim_kiosk import Out, SimKiosk

log = logging.getLogger(__name__)
BUFFER = 500  # messages a terminal keeps while offline, like the kiosk's bounded buffer
HEALTH_S, METRICS_S = 30.0, 60.0  # the protocol's default intervals, in simulated seconds
MISC_EVERY_S = 1.0  # keepalive bookkeeping of every client
REPORT_EVERY_S = 30.0
UPLOAD_THREADS = 2


@dataclass(frozen=True)
class Link:
    """How every terminal reaches the broker. ``username`` "" means the terminal's own id;
    ``{id}`` in ``password_file`` is replaced by it (one issued password file per terminal)."""

    host: str
    port: int
    tls: ssl.SSLContext | None = None
    username: str = ""
    password_file: str = ""
    keepalive_s: int = 60

    def password(self, kiosk: str) -> str | None:
        if not self.password_file:
            return None
        return Path(self.password_file.replace("{id}", kiosk)).read_text(encoding="utf-8").strip()


class Terminal:
    """One simulated terminal on the wire: its model, its client, its buffer."""

    def __init__(self, model: SimKiosk, link: Link):
        self.model, self.link = model, link
        self.client: mqtt.Client | None = None
        self.connected = False
        self.connecting = False
        self.closing_mid: int | None = None  # the last message before a restart's disconnect
        self.wanted = True  # False while offline by choice (an outage, a restart)
        self.ever_connected = False
        self.retry_s = 1.0
        self.buffer: deque[Out] = deque(maxlen=BUFFER)


class Swarm:
    def __init__(self, models: list[SimKiosk], link_of: Callable[[str], Link], *, speed: float = 1.0,
                 connect_rate: float = 500.0, upload_tls: ssl.SSLContext | None = None):
        self.link_of, self.speed, self.connect_rate, self.upload_tls = link_of, speed, connect_rate, upload_tls
        self._uploads = ThreadPoolExecutor(UPLOAD_THREADS, "fleet-sim-upload")
        self._uploaded: queue.SimpleQueue[tuple[Terminal, str, Step]] = queue.SimpleQueue()
        self.terminals = {m.id: Terminal(m, link_of(m.id)) for m in models}
        self.rng = random.Random(len(models))
        self.selector = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._t0 = time.monotonic()
        self.sent = 0
        self.stopping = False

    # -- time -------------------------------------------------------------------------------
    def sim_s(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    def later(self, sim_delay_s: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``sim_delay_s`` simulated seconds."""
        heapq.heappush(self._timers, (time.monotonic() + sim_delay_s / self.speed, next(self._order), action))

    def _every(self, interval_s: float, action: Callable[[], None], jitter: float = 0.1) -> None:
        def tick() -> None:
            action()
            self.later(interval_s * self.rng.uniform(1 - jitter, 1 + jitter), tick)
        self.later(interval_s * self.rng.random(), tick)

    # -- the loop ---------------------------------------------------------------------------
    def run(self, should_stop: Callable[[], bool]) -> None:
        """Connect every terminal (at ``connect_rate`` a second) and run until ``should_stop``."""
        for k, terminal in enumerate(self.terminals.values()):
            self.later(k / self.connect_rate * self.speed, lambda t=terminal: self._connect(t))
            self._every(HEALTH_S, lambda t=terminal: self._health(t))
            self._every(METRICS_S, lambda t=terminal: self._window(t), jitter=0.0)
        self._every(MISC_EVERY_S * self.speed, self._misc, jitter=0.0)
        self._every(REPORT_EVERY_S * self.speed, self._report, jitter=0.0)
        while not should_stop():
            self._pump(self._next_timeout())
            self._fire_timers()
            while not self._uploaded.empty():
                self._job_step(*self._uploaded.get())
        self.shutdown()

    def _next_timeout(self) -> float:
        if not self._timers:
            return 0.2
        return min(0.2, max(0.0, self._timers[0][0] - time.monotonic()))

    def _fire_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, action = heapq.heappop(self._timers)
            try:
                action()
            except Exception:
                log.exception("fleet-sim: a timer failed")

    def _pump(self, timeout: float) -> None:
        for key, events in self.selector.select(timeout):
            client: mqtt.Client = key.data
            if events & selectors.EVENT_READ:
                client.loop_read()
                while _tls_pending(client):  # decrypted bytes the selector cannot see
                    client.loop_read()
            if events & selectors.EVENT_WRITE and client.want_write():
                client.loop_write()

    def _misc(self) -> None:
        for terminal in self.terminals.values():
            if terminal.client is not None:
                terminal.client.loop_misc()

    def _report(self) -> None:
        online = sum(t.connected for t in self.terminals.values())
        log.info("fleet-sim: %d/%d terminals connected, %d messages sent", online, len(self.terminals), self.sent)

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Each connected terminal says ``offline`` (retained) and disconnects cleanly."""
        self.stopping = True
        for terminal in self.terminals.values():
            if terminal.connected and terminal.client is not None:
                self._publish(terminal, terminal.model.state_message("offline"))
                terminal.client.disconnect()
        deadline = time.monotonic() + timeout_s
        while any(t.connected for t in self.terminals.values()) and time.monotonic() < deadline:
            self._pump(0.05)
        self.selector.close()
        self._uploads.shutdown(wait=False, cancel_futures=True)

    # -- connections ------------------------------------------------------------------------
    def _client(self, terminal: Terminal) -> mqtt.Client:
        kiosk = terminal.model.id
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=kiosk, protocol=mqtt.MQTTv5)
        link = terminal.link
        client.username_pw_set(link.username or kiosk, link.password(kiosk))
        if link.tls is not None:
            client.tls_set_context(link.tls)
        client.on_socket_open = lambda c, u, sock: self.selector.register(sock, selectors.EVENT_READ, c)
        client.on_socket_close = lambda c, u, sock: self.selector.unregister(sock)
        client.on_socket_register_write = lambda c, u, sock: self.selector.modify(
            sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        client.on_socket_unregister_write = lambda c, u, sock: self.selector.modify(sock, selectors.EVENT_READ, c)
        client.on_connect = lambda c, u, flags, reason, props: self._connected(terminal, reason)
        client.on_disconnect = lambda c, u, flags, reason, props: self._disconnected(terminal, reason)
        client.on_message = lambda c, u, message: self._message(terminal, message)
        client.on_publish = lambda c, u, mid, reason, props: self._acknowledged(terminal, c, mid)
        return client

    def _connect(self, terminal: Terminal) -> None:
        if self.stopping or terminal.connected or terminal.connecting or not terminal.wanted:
            return
        if terminal.client is None:
            terminal.client = self._client(terminal)
        model = terminal.model
        will = model.state_message("offline")  # carries this connection's conn and boot
        terminal.client.will_set(will.topic, will.payload, qos=1, retain=True)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = p.SESSION_EXPIRY_S
        terminal.connecting = True  # until CONNACK, or paho's keepalive check gives up on it
        try:
            terminal.client.connect(terminal.link.host, terminal.link.port, terminal.link.keepalive_s,
                                    clean_start=False, properties=props)
        except Exception as exc:  # refused, timed out, TLS, or paho's own complaint: try again later
            log.debug("fleet-sim: %s cannot connect: %r", model.id, exc)
            terminal.connecting = False
            self._retry(terminal)

    def _retry(self, terminal: Terminal) -> None:
        delay = terminal.retry_s * self.rng.uniform(0.5, 1.5)
        terminal.retry_s = min(60.0, terminal.retry_s * 2)
        self.later(delay * self.speed, lambda: self._connect(terminal))

    def _connected(self, terminal: Terminal, reason: ReasonCode) -> None:
        terminal.connecting = False
        if reason.is_failure:
            log.warning("fleet-sim: the broker refused %s: %s", terminal.model.id, reason)
            return  # paho closes the socket; _disconnected schedules the retry
        model = terminal.model
        terminal.connected, terminal.retry_s = True, 1.0
        groups = [p.group_jobs_filter(g) for g in model.terminal.groups]
        terminal.client.subscribe([(p.jobs_filter(model.id), 1), *((g, 1) for g in groups)])
        self._publish(terminal, model.state_message())
        self._publish(terminal, model.health(self.sim_s(), 1))
        while terminal.buffer and terminal.connected:
            self._publish(terminal, terminal.buffer.popleft())
        if not terminal.ever_connected:
            terminal.ever_connected = True
            if all(t.ever_connected for t in self.terminals.values()):
                log.info("fleet-sim: all %d terminals connected", len(self.terminals))

    def _disconnected(self, terminal: Terminal, reason: ReasonCode) -> None:
        was, terminal.connected, terminal.connecting = terminal.connected, False, False
        if was:
            terminal.model.conn += 1  # the next connection's will carries its own conn
        if terminal.wanted and not self.stopping:
            if was:
                log.info("fleet-sim: %s lost the broker: %s", terminal.model.id, reason)
            self._retry(terminal)

    def _leave(self, terminal: Terminal, offline_s: float, *, restart: bool) -> None:
        """Leave the broker for ``offline_s`` simulated seconds. An outage ends the connection with
        the will; a restart says ``offline`` itself, disconnects once that is acknowledged, and
        comes back as a new boot with a new client (a new process on a real terminal)."""
        terminal.wanted = False
        client = terminal.client
        if terminal.connected and client is not None:
            if restart:
                terminal.closing_mid = client.publish(*terminal.model.state_message("offline")).mid
            else:
                client.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=4))

        def back() -> None:
            if restart:
                if terminal.client is not None and terminal.client is client:
                    client.disconnect()  # if the acknowledgement never came
                terminal.client = None
                terminal.model.boot(self.sim_s())
            terminal.wanted = True
            self._connect(terminal)
        self.later(offline_s, back)

    def _acknowledged(self, terminal: Terminal, client: mqtt.Client, mid: int) -> None:
        if mid == terminal.closing_mid:
            terminal.closing_mid = None
            client.disconnect()

    # -- messages ---------------------------------------------------------------------------
    def _publish(self, terminal: Terminal, out: Out, *, keep: bool = False) -> None:
        """Publish now if connected; otherwise keep it for the next connection when ``keep``."""
        if terminal.connected and terminal.client is not None:
            info = terminal.client.publish(out.topic, out.payload, qos=out.qos, retain=out.retain)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self.sent += 1
                return
        if keep:
            terminal.buffer.append(out)

    def _health(self, terminal: Terminal) -> None:
        if terminal.connected:  # health is a snapshot: not kept while offline
            self._publish(terminal, terminal.model.health(self.sim_s(), 0))

    def _window(self, terminal: Terminal) -> None:
        sim_s = self.sim_s()
        for out in terminal.model.metrics(sim_s, METRICS_S):
            self._publish(terminal, out, keep=True)
        outs, offline_s = terminal.model.faults(sim_s, METRICS_S)
        for out in outs:
            self._publish(terminal, out, keep=True)
        if offline_s:
            self._leave(terminal, offline_s, restart=False)

    def _message(self, terminal: Terminal, message: mqtt.MQTTMessage) -> None:
        try:
            topic = p.Topic.parse(message.topic)
        except p.ProtocolError as exc:
            log.warning("fleet-sim: %s ignores a message: %s", terminal.model.id, exc)
            return
        if topic.kind not in ("job", "group_job") or topic.job is None:
            return
        for step in terminal.model.job(topic.job, message.payload):
            self.later(step.after_s, lambda s=step, j=topic.job: self._job_step(terminal, j, s))

    def _job_step(self, terminal: Terminal, job: str, step: Step) -> None:
        model = terminal.model
        self._publish(terminal, model.job_status(job, step), keep=True)
        if step.effect is None:
            return
        what, value = step.effect
        if what == "maintenance":
            model.state = "maintenance" if value else "online"
            self._publish(terminal, model.state_message())
        elif what == "version":
            model.version = value
        elif what == "restart":
            self._leave(terminal, value, restart=True)
        elif what == "upload":
            self._uploads.submit(self._upload, terminal, job, *value)

    def _upload(self, terminal: Terminal, job: str, op: str, url: str, lines: int) -> None:
        """On an upload thread: send the screenshot or the logs, then queue the job's end."""
        model = terminal.model
        if op == "screenshot":
            body, kind = sim_upload.screenshot(model.id, model.terminal.group, model.state), "image/png"
        else:
            body, kind = sim_upload.log_text(model.id, lines), "text/plain; charset=utf-8"
        try:
            where = sim_upload.upload(url, body, kind, self.upload_tls)
        except OSError as exc:
            end = Step(0.0, p.FAILED, 100, {"code": "job.upload", "reason": f"The upload failed: {exc}"})
        else:
            size = {"bytes": len(body)} if op == "screenshot" else {"lines": lines}
            end = Step(0.0, p.SUCCEEDED, 100, {"url": where, **size})
        self._uploaded.put((terminal, job, end))


def _tls_pending(client: mqtt.Client) -> bool:
    sock = client.socket()
    return sock is not None and hasattr(sock, "pending") and sock.pending() > 0


def parent_watch(parent_pid: int) -> Callable[[], bool]:
    """For a worker process: True once its parent is gone, so an orphan stops (abruptly, as a
    killed terminal would: the broker then publishes the wills)."""
    def gone() -> bool:
        if os.getppid() != parent_pid:
            os._exit(1)
        return False
    return gone
