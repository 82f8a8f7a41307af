"""The ``[fleet]`` config section: how the terminal reaches the fleet's broker.

Kept apart from ``kiosk.fleet_agent`` so ``kiosk.config`` can list it without importing
paho or the agent.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fleet.protocol import valid_id


@dataclass(frozen=True)
class FleetOptions:
    """The ``[fleet]`` section. An empty ``broker`` leaves the terminal out of the fleet."""

    broker: str = ""  # mqtts://host:8883 (production) or mqtt://host:1883
    username: str = ""  # "" = the terminal id
    password_file: str = ""
    ca_file: str = ""  # the fleet's CA; "" = the system's
    cert_file: str = ""  # this terminal's client certificate and key
    key_file: str = ""
    groups: tuple[str, ...] = ()  # group ids whose jobs this terminal takes
    mqtt_version: str = "5"  # "5" (falls back to 3.1.1 if the broker refuses) or "3.1.1"
    health_interval_s: float = 30.0
    metrics_interval_s: float = 60.0
    keepalive_s: int = 60
    buffer_dir: str = "/var/lib/kiosk/fleet"
    buffer_max_bytes: int = 1 << 20
    upload_hosts: tuple[str, ...] = ()  # HTTPS hosts screenshots and logs may go to; () = the broker's host
    reboot_command: tuple[str, ...] = ("systemctl", "reboot")

    def __post_init__(self) -> None:
        if self.broker and (urlsplit(self.broker).scheme not in ("mqtt", "mqtts") or not urlsplit(self.broker).hostname):
            raise ValueError("key 'broker' must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        if self.mqtt_version not in ("5", "3.1.1"):
            raise ValueError("key 'mqtt_version' must be '5' or '3.1.1'")
        if not (1 <= self.health_interval_s <= 3600 and 1 <= self.metrics_interval_s <= 86400):
            raise ValueError("keys 'health_interval_s' (1-3600) and 'metrics_interval_s' (1-86400) are out of range")
        if not 5 <= self.keepalive_s <= 3600:
            raise ValueError("key 'keepalive_s' must be between 5 and 3600")
        if self.buffer_max_bytes < 1024:
            raise ValueError("key 'buffer_max_bytes' must be at least 1024")
        if not self.reboot_command:
            raise ValueError("key 'reboot_command' must name a command")
        for group in self.groups:
            if not valid_id(group):
                raise ValueError(f"key 'groups': {group!r} is not a group id")

    @property
    def allowed_upload_hosts(self) -> tuple[str, ...]:
        """Where uploads may go: ``upload_hosts``, else the broker's host (lower case)."""
        hosts = self.upload_hosts or ((urlsplit(self.broker).hostname or "",) if self.broker else ())
        return tuple(h.lower() for h in hosts if h)
