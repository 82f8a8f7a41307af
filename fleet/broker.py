"""How the manager reaches the broker: URL, its account, TLS; a connected paho client."""
from __future__ import annotations

import logging
import queue
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)
MANAGER_ACCOUNT = "fleet-manager"  # deploy/mosquitto/fleet.acl: the only account that publishes jobs
CONNECT_WAIT_S = 15.0


@dataclass(frozen=True)
class BrokerOptions:
    url: str  # mqtt://HOST:PORT or mqtts://HOST:PORT
    username: str = MANAGER_ACCOUNT
    password_file: str = ""
    ca_file: str = ""  # "" = the system's CAs
    cert_file: str = ""  # a client certificate, if the broker asks for one
    key_file: str = ""

    def __post_init__(self) -> None:
        url = urlsplit(self.url)
        if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
            raise ValueError(f"broker must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], not {self.url!r}")

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        url = urlsplit(self.url)
        return url.port or (8883 if url.scheme == "mqtts" else 1883)

    def client(self, client_id: str, **kwargs: Any) -> mqtt.Client:
        """An MQTT 5 client with this account and TLS, not yet connected."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, **kwargs)
        password = Path(self.password_file).read_text(encoding="utf-8").strip() if self.password_file else None
        client.username_pw_set(self.username, password)
        if urlsplit(self.url).scheme == "mqtts":
            context = ssl.create_default_context(cafile=self.ca_file or None)
            if self.cert_file:
                context.load_cert_chain(self.cert_file, self.key_file or None)
            client.tls_set_context(context)
        client.reconnect_delay_set(1, 30)
        return client

    def connect(self, client: mqtt.Client, session_expiry_s: int = 0, receive_maximum: int = 0) -> None:
        """Connect ``client`` and start its network thread; raises ConnectionError if refused.
        A session expiry keeps the client's subscriptions and queued messages while it is away;
        ``receive_maximum`` is how many QoS 1 messages may await its acknowledgement."""
        result: queue.Queue[Any] = queue.Queue()
        previous = client.on_connect

        def first_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            client.on_connect = previous
            result.put(reason)
            if previous is not None and not reason.is_failure:
                previous(c, userdata, flags, reason, props)

        client.on_connect = first_connect
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry_s
        if receive_maximum:
            props.ReceiveMaximum = receive_maximum
        client.connect_async(self.host, self.port, 60, clean_start=session_expiry_s == 0, properties=props)
        client.loop_start()
        try:
            reason = result.get(timeout=CONNECT_WAIT_S)
        except queue.Empty:
            reason = None
        if reason is None or reason.is_failure:
            client.loop_stop()
            raise ConnectionError(f"the broker at {self.url} refused {self.username}: {reason or 'no answer'}")
