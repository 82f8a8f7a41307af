"""A simulated resident-ID SAM reader on a pty pair, speaking the real frames.

The driver opens the pty's slave side (``port``) as if it were /dev/ttyUSB0. With a
``link`` path the port is a stable symlink (like a udev rule's /dev/idcard), which
``unplug``/``plug`` remove and re-create around a brand-new pty, as a real USB-serial
adapter does. A pty has no baud rate: pass ``pace_baudrate`` to send answers no
faster than a UART at that rate (10 bits per byte), and to answer a request no
sooner than its own bytes would have taken to arrive.

Faults (``set_fault``, at run time): garbage before frames, frames split into small
chunks, a bad checksum, the card pulled mid-read, a silent reader, a failed module
self-test; plus ``remove()`` (no card) and ``unplug()``.
"""
from __future__ import annotations

import hashlib
import logging
import os
import random
import select
import threading
import time
import tty
from collections import deque
from datetime import date
from pathlib import Path

from drivers.idcard import samv_protocol as sp
from drivers.idcard.identity import Identity, encode_text
from drivers.sim.base import Simulator

log = logging.getLogger(__name__)

FAULTS = ("garbage", "split", "bad_checksum", "pulled_mid_read", "silent", "self_test_failed")


def _photo(seed: str) -> bytes:
    """1024 bytes standing in for a WLT photo (only vendor libraries decode WLT)."""
    digest = b"".join(hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(32))
    return b"WLfX" + digest[:1020]


def _identity(name, gender, nation, birth, address, number, authority, start, end, card_type="resident"):
    return Identity(name, gender, nation, birth, address, number, authority, start, end, card_type, _photo(number))


DEMO_IDENTITIES: tuple[Identity, ...] = (
    _identity("张伟", "男", "汉族", date(1985, 3, 15), "北京市朝阳区建国路88号院3号楼2单元501号",
              "110105198503151230", "北京市公安局朝阳分局", date(2015, 6, 1), date(2035, 6, 1)),
    _identity("李秀英", "女", "汉族", date(1958, 11, 2), "上海市浦东新区世纪大道100号12楼1203室",
              "31011519581102204X", "上海市公安局浦东分局", date(2012, 4, 20), None),
    _identity("阿依古丽·买买提", "女", "维吾尔族", date(2001, 7, 23), "新疆乌鲁木齐市天山区解放南路15号",
              "650102200107234065", "乌鲁木齐市公安局天山区分局", date(2019, 8, 10), date(2029, 8, 10)),
    _identity("陈家豪", "男", "", date(1990, 1, 20), "广东省深圳市福田区福华三路168号",
              "810000199001201536", "深圳市公安局", date(2023, 9, 1), date(2028, 9, 1), "hmt_residence"),
)


class SimulatedSamvReader(Simulator):
    """A SAM reader on a pty. ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, identities: tuple[Identity, ...] = DEMO_IDENTITIES, *,
                 link: str | Path | None = None, pace_baudrate: int | None = None,
                 card: Identity | None = None):
        self.identities = identities
        self.link = Path(link) if link else None
        self.pace_baudrate = pace_baudrate
        self.card = card
        self.fault: str | None = None
        self._fault_count: int | None = None
        self.received: deque[tuple[int, int]] = deque(maxlen=4096)  # (CMD, PARA), latest last
        self.wire_bytes = 0  # bytes of every request received and answer sent
        self._lock = threading.Lock()
        self._fds: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.slave_path = ""

    # -- life cycle ----------------------------------------------------------
    def start(self) -> SimulatedSamvReader:
        self.plug()
        return self

    def stop(self) -> None:
        self.unplug()

    @property
    def port(self) -> str:
        """The path a driver opens: the stable link if there is one, else the pty."""
        return str(self.link) if self.link else self.slave_path

    @property
    def plugged(self) -> bool:
        return self._fds is not None

    def config_section(self) -> dict:
        """The ``[devices.NAME]`` keys that point the samv driver at this simulator."""
        return {"driver": "samv", "port": self.port, "baudrate": self.pace_baudrate or 115200,
                "timeout_s": 2.0, "poll_interval_s": 0.5}

    def plug(self) -> None:
        """Attach a new pty (and point the link at it) and start answering."""
        if self._fds is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self.slave_path = os.ttyname(slave)
        if self.link:
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.slave_path)
            os.replace(tmp, self.link)
        self._fds = (master, slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(master, self._stop),
                                        name="sim-samv", daemon=True)
        self._thread.start()
        log.info("simulated SAM reader on %s", self.port)

    def unplug(self) -> None:
        """Vanish like an unplugged USB adapter: the pty closes and the link goes."""
        if self._fds is None:
            return
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        if self.link:
            self.link.unlink(missing_ok=True)
        for fd in self._fds:
            os.close(fd)
        self._fds = None

    # -- card and faults -------------------------------------------------------
    def insert(self, identity: Identity | None = None) -> None:
        self.card = identity or self.identities[0]

    def remove(self) -> None:
        self.card = None

    def set_fault(self, mode: str | None, count: int | None = None) -> None:
        """Switch on fault ``mode`` (one of FAULTS) for ``count`` answers (None: until cleared)."""
        if mode is not None and mode not in FAULTS:
            raise ValueError(f"unknown fault {mode!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self.fault, self._fault_count = mode, count

    def clear_fault(self) -> None:
        self.set_fault(None)

    def _take_fault(self) -> str | None:
        with self._lock:
            mode = self.fault
            if mode and self._fault_count is not None:
                self._fault_count -= 1
                if self._fault_count <= 0:
                    self.fault, self._fault_count = None, None
            return mode

    # -- the wire --------------------------------------------------------------
    def _serve(self, master: int, stop: threading.Event) -> None:
        buf = bytearray()
        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                buf += os.read(master, 4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:  # EIO: nobody has the slave open
                time.sleep(0.05)
                continue
            while True:
                try:
                    payload = sp.take_frame(buf)
                except sp.FrameError:
                    self._send(master, sp.response(sp.CHECKSUM_ERROR), None, stop)
                    continue
                if payload is None:
                    break
                self._answer(master, payload, stop)

    def _answer(self, master: int, payload: bytes, stop: threading.Event) -> None:
        command = (payload[0], payload[1]) if len(payload) >= 2 else (0, 0)
        self.received.append(command)
        self.wire_bytes += len(payload) + len(sp.PREAMBLE) + 3
        if self.pace_baudrate:  # the module cannot answer before the request has arrived
            time.sleep((len(payload) + len(sp.PREAMBLE) + 3) * 10 / self.pace_baudrate)
        fault = self._take_fault()
        if fault == "silent":
            return
        self._send(master, self._reply(command, fault), fault, stop)

    def _reply(self, command: tuple[int, int], fault: str | None) -> bytes:
        card = self.card
        if fault == "self_test_failed":
            return sp.response(sp.SELF_TEST_FAILED)
        if command in (sp.STATUS, sp.RESET):
            return sp.response(sp.OK)
        if command == sp.MODULE_ID:
            return sp.response(sp.OK, bytes.fromhex("0501000020240101000000000000ABCD"))
        if command == sp.FIND:
            return sp.response(sp.FOUND, bytes(4)) if card else sp.response(sp.NO_CARD)
        if command == sp.SELECT:
            return sp.response(sp.OK, bytes(8)) if card else sp.response(sp.SELECT_FAILED)
        if command == sp.READ:
            if card is None or fault == "pulled_mid_read":
                self.card = None
                return sp.response(sp.READ_FAILED)
            text, photo = encode_text(card), card.photo.ljust(1024, b"\0")[:1024]
            return sp.response(sp.OK, len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo)
        if command == sp.READ_ADDRESS:
            return sp.response(sp.NO_CONTENT)
        return sp.response(0x21)

    def _send(self, master: int, data: bytes, fault: str | None, stop: threading.Event) -> None:
        if fault == "bad_checksum":
            data = data[:-1] + bytes([data[-1] ^ 0x5A])
        if fault == "garbage":  # noise, including a broken preamble, before the frame
            data = bytes(random.randrange(0xAA) for _ in range(13)) + b"\xAA\xAA\x96" + data
        self.wire_bytes += len(data)
        size = random.randint(1, 7) if fault == "split" else 64
        start, sent = time.monotonic(), 0
        for i in range(0, len(data), size):
            chunk = data[i:i + size]
            if not self._write(master, chunk, stop):
                return
            sent += len(chunk)
            if self.pace_baudrate:
                delay = start + sent * 10 / self.pace_baudrate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            elif fault == "split":
                time.sleep(0.0002)

    @staticmethod
    def _write(master: int, data: bytes, stop: threading.Event) -> bool:
        """Write all of ``data``; False when nobody reads it (a full pty drops it)."""
        while data and not stop.is_set():
            try:
                data = data[os.write(master, data):]
            except BlockingIOError:
                if not select.select([], [master], [], 0.5)[1]:
                    return False
            except OSError:
                return False
        return not data
