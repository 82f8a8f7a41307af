"""The private mosquitto of ``fleet.local_broker`` for tests, and what tests need around it.

``broker(tmp, terminals)`` starts it with a plain listener beside the TLS one and logs every
packet (tests look for denials). ``Watcher`` is a paho client that collects what arrives,
for assertions; ``Proxy`` is a relay that can cut the line.
"""
from __future__ import annotations

import contextlib
import functools
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from fleet.broker import MANAGER_ACCOUNT as MANAGER
from fleet.local_broker import LocalBroker as Broker
from fleet.local_broker import free_port  # noqa: F401 (tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 15.0  # the longest any test waits for a message before it fails
broker = functools.partial(Broker, log_all=True)  # ``with broker(tmp, {id: groups}) as b:``


def broker_fixtures(name: str, terminals: dict[str, tuple[str, ...]]):
    """``mq, manager = broker_fixtures(...)`` in a test module: a private broker for the module
    with an account for each of ``terminals`` ({id: groups}), and a ``Watcher`` per test."""
    @pytest.fixture(scope="module")
    def mq(tmp_path_factory):
        with broker(tmp_path_factory.mktemp(name), terminals) as b:
            yield b

    @pytest.fixture
    def manager(mq):
        with Watcher(mq) as watcher:
            yield watcher

    return mq, manager


class Watcher:
    """A connected paho client that queues every message it receives."""

    def __init__(self, b: Broker, username: str = MANAGER, *, subscribe: tuple[str, ...] = ("kiosk/v1/#",),
                 protocol: int = mqtt.MQTTv5, client_id: str = "", tls: bool = False,
                 password: str | None = None):
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._backlog: list[mqtt.MQTTMessage] = []
        self.acks: queue.Queue[tuple[int, int]] = queue.Queue()  # (mid, reason code) of QoS 1 publishes
        self.granted: queue.Queue[list[int]] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
        self.client.username_pw_set(username, b.password(username) if password is None else password)
        self.client.on_message = lambda c, u, msg: self.messages.put(msg)
        self.client.on_publish = lambda c, u, mid, rc, props: self.acks.put((mid, rc.value))
        self.client.on_subscribe = lambda c, u, mid, rcs, props: self.granted.put([r.value for r in rcs])
        connected: queue.Queue[int] = queue.Queue()
        self.client.on_connect = lambda c, u, flags, rc, props: connected.put(rc.value)
        port = b.port
        if tls:
            issued = b.accounts[username]
            assert issued.cert_file and issued.key_file
            self.client.tls_set(ca_certs=str(b.ca_file), certfile=str(issued.cert_file),
                                keyfile=str(issued.key_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
            port = b.tls_port
        self.client.connect("localhost" if tls else "127.0.0.1", port)
        self.client.loop_start()
        try:
            rc = connected.get(timeout=WAIT_S)
        except queue.Empty:
            rc = -1
        if rc != 0:
            self.close()
            raise ConnectionError(f"CONNACK {rc}")
        for topic in subscribe:
            self.client.subscribe(topic, qos=1)
            self.granted.get(timeout=WAIT_S)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        """Publish and wait for the broker's acknowledgement; returns its reason code (0 = accepted)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        mid, rc = self.acks.get(timeout=WAIT_S)
        assert mid == info.mid
        return rc

    def next(self, match: Callable[[mqtt.MQTTMessage], bool] = lambda m: True) -> mqtt.MQTTMessage:
        """The oldest message ``match`` accepts; the others stay for later calls."""
        for i, msg in enumerate(self._backlog):
            if match(msg):
                return self._backlog.pop(i)
        deadline = time.monotonic() + WAIT_S
        while True:
            remaining = deadline - time.monotonic()
            try:
                msg = self.messages.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise AssertionError("no matching message arrived") from None
            if match(msg):
                return msg
            self._backlog.append(msg)

    def poll(self, match: Callable[[mqtt.MQTTMessage], bool]) -> mqtt.MQTTMessage | None:
        """The oldest message arrived so far that ``match`` accepts, or None at once (for loops that pump
        something else between calls, such as a UI's frames)."""
        while not self.messages.empty():
            self._backlog.append(self.messages.get_nowait())
        return next((self._backlog.pop(i) for i, msg in enumerate(self._backlog) if match(msg)), None)

    def on(self, topic: str, match: Callable[[bytes], bool] = lambda p: True) -> mqtt.MQTTMessage:
        return self.next(lambda m: m.topic == topic and match(m.payload))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Proxy:
    """A TCP relay in front of the broker: ``cut()`` drops every connection and refuses new
    ones until ``resume()``; ``mqtt311_only`` answers an MQTT 5 CONNECT as a 3.1.1 broker
    does (CONNACK "unacceptable protocol version") and relays the rest."""

    def __init__(self, port: int, mqtt311_only: bool = False):
        self.upstream = port
        self.mqtt311_only = mqtt311_only
        self.refused_v5 = 0
        self._cut = threading.Event()
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._keep(client):
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _keep(self, sock: socket.socket) -> bool:
        """Track ``sock`` so ``cut`` can drop it; while cut, close it instead."""
        with self._lock:
            if not self._cut.is_set():
                self._open.append(sock)
                return True
        sock.close()
        return False

    def _relay(self, client: socket.socket) -> None:
        try:
            first = client.recv(65536)
        except OSError:
            return
        if self.mqtt311_only and _protocol_level(first) == 5:
            self.refused_v5 += 1
            client.sendall(b"\x20\x02\x00\x01")
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream))
        if not self._keep(upstream):
            client.close()
            return
        upstream.sendall(first)
        threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
        _pump(client, upstream)

    def cut(self) -> None:
        with self._lock:
            self._cut.set()
            dropping, self._open = self._open, []
        for s in dropping:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def resume(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self.cut()
        self._server.close()


def _protocol_level(connect: bytes) -> int | None:
    """The protocol level byte of an MQTT CONNECT packet (4 = 3.1.1, 5 = 5.0)."""
    if not connect or connect[0] != 0x10:
        return None
    i = 1
    while i < len(connect) and connect[i] & 0x80:
        i += 1
    i += 1  # past the remaining length
    name_len = int.from_bytes(connect[i:i + 2], "big")
    level_at = i + 2 + name_len
    return connect[level_at] if level_at < len(connect) else None


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:  # shutdown first: a close alone leaves the other pump's recv holding the connection
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
