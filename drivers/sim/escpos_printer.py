"""A network ESC/POS receipt printer on a loopback TCP port, for the demo and the tests.

It decodes what it receives (``escpos_decoder``), answers DLE EOT with real
status bytes, and collects the receipts as ``Document``s (and, given a run
directory, writes each one to ``receipts/receipt-NNNN.txt``). Faults switch at
run time through ``fault``: paper near end, paper out, cover open, cutter jam, mute (status
requests unanswered), garbage status bytes, refused (the port is closed).
"""
from __future__ import annotations

import logging
import select
import socket
import threading
import time
from enum import Enum
from pathlib import Path

from drivers.sim.base import Simulator
from drivers.sim.escpos_decoder import Document, EscposDecoder

log = logging.getLogger(__name__)


class Fault(str, Enum):
    NONE = "none"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    CUTTER_JAM = "cutter_jam"
    MUTE = "mute"
    GARBAGE = "garbage"
    REFUSED = "refused"


class SimulatedEscposPrinter(Simulator):
    def __init__(self, port: int = 0, run_dir: Path | str | None = None, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self._fault = Fault.NONE
        self._lock = threading.RLock()
        self._documents: list[Document] = []
        self._changed = threading.Condition(self._lock)
        self._decoder = EscposDecoder(self._answer_status, self._collect)
        self._asker: socket.socket | None = None
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._running = False
        self.status_requests = 0

    # -- control -------------------------------------------------------------------
    def start(self) -> SimulatedEscposPrinter:
        self._running = True
        if self._fault is not Fault.REFUSED:
            self._listen()
        return self

    def stop(self) -> None:
        self._running = False
        self._close_sockets()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    @property
    def fault(self) -> Fault:
        return self._fault

    @fault.setter
    def fault(self, fault: Fault | str) -> None:
        fault = Fault(fault)
        with self._lock:
            was, self._fault = self._fault, fault
            self._decoder.paper_out = fault in (Fault.PAPER_OUT, Fault.COVER_OPEN, Fault.CUTTER_JAM)
        log.info("escpos sim: fault %s -> %s", was.value, fault.value)
        if fault is Fault.REFUSED:
            self._close_sockets()
        elif was is Fault.REFUSED and self._running:
            self._listen()

    def config_section(self, **overrides) -> dict:
        """The ``[devices.NAME]`` keys that point the escpos driver at this printer."""
        return {"driver": "escpos", "connection": "network", "host": self.host, "port": self.port,
                "timeout_s": 1.0, "status_interval_s": 2.0, **overrides}

    # -- what was printed ------------------------------------------------------------
    @property
    def documents(self) -> tuple[Document, ...]:
        with self._lock:
            return tuple(self._documents)

    @property
    def dropped(self) -> int:
        """Lines, QR codes and cuts sent while the printer could not print."""
        return self._decoder.dropped

    @property
    def unknown_commands(self) -> tuple[bytes, ...]:
        with self._lock:
            return tuple(self._decoder.unknown)

    def wait_documents(self, count: int, timeout: float = 10.0) -> tuple[Document, ...]:
        """The documents once there are at least ``count``; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._documents) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._documents)} of {count} receipts printed")
                self._changed.wait(left)
            return tuple(self._documents)

    # -- the wire ----------------------------------------------------------------------
    def status_byte(self, n: int) -> int:
        """The DLE EOT n answer for the current fault (0x12: fixed bits only, all well)."""
        fault = self._fault
        paper_out, cover_open = fault is Fault.PAPER_OUT, fault is Fault.COVER_OPEN
        jam = fault is Fault.CUTTER_JAM
        value = 0x12
        if n == 1 and (paper_out or cover_open or jam):
            value |= 0x08  # offline
        elif n == 2:
            value |= (0x04 if cover_open else 0) | (0x20 if paper_out else 0) | (0x40 if jam else 0)
        elif n == 3 and jam:
            value |= 0x08  # autocutter error
        elif n == 4:
            value |= (0x0C if fault in (Fault.PAPER_NEAR_END, Fault.PAPER_OUT) else 0)
            value |= 0x60 if paper_out else 0
        return value

    def _answer_status(self, n: int) -> None:
        self.status_requests += 1
        if self._fault is Fault.MUTE or self._asker is None:
            return
        value = (0xFF if self.status_requests % 2 else 0x00) if self._fault is Fault.GARBAGE else self.status_byte(n)
        try:
            self._asker.sendall(bytes([value]))
        except OSError:
            log.debug("escpos sim: status answer not delivered")

    def _collect(self, doc: Document) -> None:
        with self._changed:
            self._documents.append(doc)
            number = len(self._documents)
            self._changed.notify_all()
        if self.run_dir is not None:
            folder = self.run_dir / "receipts"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"receipt-{number:04d}.txt").write_text(doc.as_text(), encoding="utf-8")

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(4)
        self.port = sock.getsockname()[1]
        self._listener = sock
        self._spawn(self._accept, sock)
        log.info("escpos sim: listening on %s:%d", self.host, self.port)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="escpos-sim")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                if not select.select([listener], [], [], 0.1)[0]:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):  # closed under us
                return
            with self._lock:
                self._clients.add(conn)
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        try:
            while True:
                if not select.select([conn], [], [], 0.1)[0]:
                    if conn not in self._clients:
                        return
                    continue
                data = conn.recv(65536)
                if not data:
                    return
                with self._lock:
                    self._asker = conn
                    self._decoder.feed(data)
                    self._asker = None
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._clients.discard(conn)
            conn.close()

    def _close_sockets(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            clients, self._clients = list(self._clients), set()
        if listener is not None:
            listener.close()
        for conn in clients:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
