"""Fleet messages kept on disk while the broker is out of reach, sent on reconnect.

A bounded JSON-lines file: when a new message would push it over ``max_bytes`` the
oldest are dropped first and counted, so the agent can report how many were lost.
Thread-safe; a torn last line after a power cut is skipped with a warning.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Buffered:
    topic: str
    payload: bytes
    qos: int = 1


class OfflineBuffer:
    """``put`` while offline; ``peek``/``remove`` while draining; ``take_dropped`` the loss count."""

    def __init__(self, directory: Path | str, max_bytes: int = 1 << 20):
        if max_bytes < 1024:
            raise ValueError(f"max_bytes must be at least 1024, not {max_bytes}")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._file = self.dir / "buffer.jsonl"
        self._dropped_file = self.dir / "buffer.dropped"
        self._lock = threading.Lock()
        self._lines: deque[bytes] = deque()
        self._size = 0
        self._load()

    def _load(self) -> None:
        if self._file.exists():
            for number, line in enumerate(self._file.read_bytes().splitlines(keepends=True), 1):
                if _decode(line) is None:
                    log.warning("fleet buffer: skipping damaged line %d of %s", number, self._file)
                    continue
                self._lines.append(line if line.endswith(b"\n") else line + b"\n")
                self._size += len(self._lines[-1])
        try:
            self._dropped = int(self._dropped_file.read_text() or 0)
        except (OSError, ValueError):
            self._dropped = 0

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def dropped(self) -> int:
        return self._dropped

    def put(self, message: Buffered) -> None:
        line = json.dumps({"t": message.topic, "q": message.qos, "p": message.payload.decode("utf-8")},
                          ensure_ascii=False).encode("utf-8") + b"\n"
        with self._lock:
            dropped = 0
            while self._lines and self._size + len(line) > self.max_bytes:
                self._size -= len(self._lines.popleft())
                dropped += 1
            if len(line) > self.max_bytes:
                dropped += 1
            else:
                self._lines.append(line)
                self._size += len(line)
            if dropped:
                self._dropped += dropped
                self._dropped_file.write_text(str(self._dropped))
                self._rewrite()
            else:
                with open(self._file, "ab") as f:
                    f.write(line)

    def peek(self, count: int) -> list[Buffered]:
        """The oldest ``count`` messages, left in place until ``remove``."""
        with self._lock:
            lines = [self._lines[i] for i in range(min(count, len(self._lines)))]
        return [m for m in map(_decode, lines) if m is not None]

    def remove(self, count: int) -> None:
        """Forget the oldest ``count`` messages: they were delivered."""
        with self._lock:
            for _ in range(min(count, len(self._lines))):
                self._size -= len(self._lines.popleft())
            self._rewrite()

    def take_dropped(self) -> int:
        """How many were dropped since the last call; the count starts again at 0."""
        with self._lock:
            dropped, self._dropped = self._dropped, 0
            self._dropped_file.unlink(missing_ok=True)
        return dropped

    def _rewrite(self) -> None:
        tmp = self._file.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.writelines(self._lines)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._file)


def _decode(line: bytes) -> Buffered | None:
    try:
        raw = json.loads(line)
        return Buffered(raw["t"], raw["p"].encode("utf-8"), int(raw["q"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
