"""The ``[store]`` config section: where the terminal keeps what it accepted.

Kept apart from ``kiosk.store`` so ``kiosk.config`` can list it without importing SQLite
or the cryptography it seals personal data with.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DB_NAME = "kiosk.sqlite"


@dataclass(frozen=True)
class StoreOptions:
    """The ``[store]`` section."""

    dir: str = "/var/lib/kiosk/store"  # the database and the sealed scans
    key_file: str = "/etc/kiosk/store.key"  # made by `kiosk provision-key`; owner-only
    retention_days: int = 30  # a delivered case's personal data is purged after this
    stuck_after_s: float = 3600.0  # `outbox.stuck` when the oldest pending message is older
    retry_max_s: float = 300.0  # the longest wait between attempts while the platform is away

    def __post_init__(self) -> None:
        if not self.dir or not self.key_file:
            raise ValueError("keys 'dir' and 'key_file' must not be empty")
        if not 1 <= self.retention_days <= 3650:
            raise ValueError("key 'retention_days' must be between 1 and 3650")
        if self.stuck_after_s <= 0 or not 0.1 <= self.retry_max_s <= 86400:
            raise ValueError("keys 'stuck_after_s' (positive) and 'retry_max_s' (0.1-86400) are out of range")

    @property
    def db_path(self) -> Path:
        return Path(self.dir) / DB_NAME
