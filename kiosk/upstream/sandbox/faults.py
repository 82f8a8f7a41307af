"""Faults the sandbox can be told to have, and its front door (the TCP listener that can go away).

HTTP-level faults (slow answers, a rate of 503s, hanging without an answer) apply to the
API under ``/v1`` only, so the admin endpoint always answers. A full outage is at the TCP
level: the front door closes its listening socket and every open connection (a client
sees "connection refused"), and opens again after the outage's length.
"""
from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

OUTAGE_GRACE_S = 0.05  # open connections are cut this much later, so the admin's answer gets out
PIPE_CHUNK = 64 * 1024


class FaultSettings(BaseModel):
    """A change of faults (``POST /admin/faults``); keys left out keep their value."""

    model_config = ConfigDict(strict=True, extra="forbid")
    delay_s: Annotated[float, Field(ge=0, le=600)] | None = None
    error_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    hang: bool | None = None
    outage_s: Annotated[float, Field(gt=0, le=3600)] | None = None
    clear: bool = False  # everything off first (an outage under way runs its course)


@dataclass
class Faults:
    delay_s: float = 0.0
    error_rate: float = 0.0
    hang: bool = False
    outage_until: float = 0.0
    _credit: float = 0.0

    def change(self, settings: FaultSettings) -> None:
        if settings.clear:
            self.delay_s, self.error_rate, self.hang, self._credit = 0.0, 0.0, False, 0.0
        for name in ("delay_s", "error_rate", "hang"):
            value = getattr(settings, name)
            if value is not None:
                setattr(self, name, value)

    def fail_now(self) -> bool:
        """Whether this request gets a 503: exactly ``error_rate`` of them, evenly spread (deterministic)."""
        self._credit += self.error_rate
        if self._credit >= 1 - 1e-9:
            self._credit -= 1
            return True
        return False

    def as_dict(self) -> dict:
        return {"delay_s": self.delay_s, "error_rate": self.error_rate, "hang": self.hang,
                "outage_s": round(max(0.0, self.outage_until - time.time()), 3)}


class FrontDoor:
    """The public listener; each connection is piped to the API server's Unix socket."""

    def __init__(self, host: str, port: int, backend: str, tls: ssl.SSLContext | None, faults: Faults):
        self.host, self.port, self.backend, self.tls, self.faults = host, port, backend, tls, faults
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self.tls,
                                                  reuse_address=True, backlog=512)
        self.port = self._server.sockets[0].getsockname()[1]  # the real one when asked for port 0

    def close(self) -> None:
        self._stop_listening()
        for writer in list(self._open):
            writer.transport.abort()

    def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def outage(self, seconds: float) -> None:
        """Refuse connections for ``seconds`` from now (open ones are cut a moment later), then come back."""
        self.faults.outage_until = time.time() + seconds
        self._stop_listening()
        asyncio.get_running_loop().create_task(self._outage(seconds))

    async def _outage(self, seconds: float) -> None:
        await asyncio.sleep(min(OUTAGE_GRACE_S, seconds))
        self.close()
        await asyncio.sleep(max(0.0, self.faults.outage_until - time.time()))
        if self._server is None and time.time() >= self.faults.outage_until - 1e-3:  # not if a longer one came
            await self.open()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            backend_r, backend_w = await asyncio.open_unix_connection(self.backend)
        except OSError:
            client_w.transport.abort()
            return
        self._open.update((client_w, backend_w))
        try:
            await asyncio.gather(_pipe(client_r, backend_w), _pipe(backend_r, client_w))
        finally:
            self._open.difference_update((client_w, backend_w))
            for writer in (client_w, backend_w):
                writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
        while data := await reader.read(PIPE_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
