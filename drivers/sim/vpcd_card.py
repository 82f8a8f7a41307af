"""A virtual smart card for vsmartcard's vpcd reader, speaking the vpcd socket protocol.

The card ("vicc") connects to vpcd's TCP port. Each message either way is a 2-byte
big-endian length and a payload. From vpcd, a 1-byte payload is a control message
(00 power off, 01 power on, 02 reset, 04 get ATR: answered with the ATR); anything
longer is a command APDU, answered with a response APDU. Inserting the card is
connecting; removing it is closing the connection.

Profiles:
- ``badge``: a contactless MIFARE-style staff badge; ``FF CA 00 00 00`` answers its UID.
- ``social_security``: a contact card whose layout is this simulator's own:
  application AID D1 56 00 00 15 "SSCARD" (SELECT answers 61xx: fetch the FCI with
  GET RESPONSE); card information in a transparent file, SFI 5 (READ BINARY insists on
  the exact Le: 6Cxx otherwise), one TLV per field, tags 01 card id, 02 card type,
  03 spec version, 04 issuer, 05 issue date (BCD YYYYMMDD), 06 expiry date, 07 card
  number; holder data in record file SFI 6, one TLV per record: 08 ID number, 09 name
  (GBK), 0A gender, 0B nation code.

Faults (``fault``): ``"removed_mid_transaction"`` (the card is pulled out when the
second APDU after the fault was set arrives, unanswered), ``"mute"`` (APDUs get no
answer at all, until the card is removed), ``"garbage"`` (every APDU is answered with
bytes that are no response APDU). Stopping pcscd is the daemon's fault (``PcscDaemon``).
"""
from __future__ import annotations

import logging
import socket
import threading
from datetime import date

from drivers.sim.base import Simulator
from drivers.idcard import tlv
from drivers.sim.pcscd import PcscDaemon

log = logging.getLogger(__name__)

FAULTS = ("removed_mid_transaction", "mute", "garbage")
BADGE_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
SSC_ATR = bytes.fromhex("3B6C0000863853534341524430313030")
SSC_AID = bytes.fromhex("D156000015") + b"SSCARD"
GARBAGE = b"\x13\x37\x00"

SOCIAL_SECURITY = {
    "card_id": "110000D15600000512AB34CD", "card_type": "3", "spec_version": "3.00",
    "issuer": "110000", "issue_date": "2021-03-15", "expiry_date": "2031-03-14",
    "card_number": "K12345678", "id_number": "11010519491231002X", "name": "张三",
    "gender": "1", "nation": "01",
}
_CARD_INFO_TAGS = {"card_id": 1, "card_type": 2, "spec_version": 3, "issuer": 4,
                   "issue_date": 5, "expiry_date": 6, "card_number": 7}
_HOLDER_TAGS = {"id_number": 8, "name": 9, "gender": 10, "nation": 11}


def _value(name: str, text: str) -> bytes:
    if name.endswith("_date"):
        return bytes.fromhex(date.fromisoformat(text).strftime("%Y%m%d"))
    return text.encode("gbk" if name == "name" else "ascii")


def _sw(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


DEMO_BADGE_UID = "04A22B5C"  # the village agent's staff badge of the demo and the tests


class VirtualCard(Simulator):
    """One card on slot 00 of ``daemon``'s vpcd reader; ``start`` inserts it."""

    def __init__(self, daemon: PcscDaemon, profile: str = "badge", *, uid: str = DEMO_BADGE_UID,
                 data: dict[str, str] | None = None, host: str = "127.0.0.1"):
        if profile not in ("badge", "social_security"):
            raise ValueError(f"unknown card profile {profile!r}")
        self.daemon, self.profile, self.uid, self.host = daemon, profile, bytes.fromhex(uid), host
        self.data = dict(SOCIAL_SECURITY if data is None else data)
        self.fault: str | None = None
        self.apdus: list[bytes] = []  # every command APDU received, for tests
        self._inserted = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._reset()

    # -- control ---------------------------------------------------------------
    def start(self) -> VirtualCard:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
        self._thread.start()
        self.insert()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.remove()
        self._inserted.set()  # wake the thread so it sees _stopping
        if self._thread is not None:
            self._thread.join(5)

    @property
    def inserted(self) -> bool:
        return self._inserted.is_set()

    def insert(self) -> None:
        self._inserted.set()

    def remove(self) -> None:
        """Pull the card out: the connection to vpcd closes, pcscd sees no card."""
        self._inserted.clear()
        with self._lock:
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def set_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")
        self.fault = fault
        self._until_pulled = 2

    def config_section(self) -> dict[str, object]:
        """The ``[devices.NAME]`` keys that point the pcsc driver at this card's reader."""
        return {"driver": "pcsc", "socket": self.daemon.socket_path,
                "reader": self.daemon.readers[0], "profile": self.profile}

    # -- the wire --------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            self._inserted.wait()
            if self._stopping.is_set():
                return
            try:
                sock = socket.create_connection((self.host, self.daemon.vpcd_port), timeout=1)
            except OSError:  # pcscd is not running (yet): try again
                self._stopping.wait(0.2)
                continue
            with self._lock:
                self._sock = sock
            if not self._inserted.is_set():
                sock.close()
                continue
            log.info("virtual %s card inserted", self.profile)
            self._reset()
            try:
                sock.settimeout(None)
                self._serve(sock)
            except OSError:
                pass
            finally:
                with self._lock:
                    self._sock = None
                sock.close()
            log.info("virtual %s card out", self.profile)

    def _serve(self, sock: socket.socket) -> None:
        while self._inserted.is_set():
            head = self._recv(sock, 2)
            if head is None:
                return
            message = self._recv(sock, int.from_bytes(head, "big"))
            if message is None:
                return
            if len(message) == 1:
                if message[0] == 0x04:
                    self._send(sock, BADGE_ATR if self.profile == "badge" else SSC_ATR)
                elif message[0] == 0x02:
                    self._reset()
                continue
            self.apdus.append(message)
            if self.fault == "mute":
                continue
            if self.fault == "garbage":
                self._send(sock, GARBAGE)
                continue
            if self.fault == "removed_mid_transaction":
                self._until_pulled -= 1
                if self._until_pulled <= 0:
                    self.fault = None
                    self.remove()
                    return
            self._send(sock, self.respond(message))

    @staticmethod
    def _recv(sock: socket.socket, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    @staticmethod
    def _send(sock: socket.socket, payload: bytes) -> None:
        sock.sendall(len(payload).to_bytes(2, "big") + payload)

    # -- the card --------------------------------------------------------------
    def _reset(self) -> None:
        self._selected = False
        self._pending = b""
        self._until_pulled = 2

    def respond(self, apdu: bytes) -> bytes:
        """The card's response APDU to ``apdu``."""
        if len(apdu) < 4:
            return _sw(0x6700)
        cla, ins, p1, p2 = apdu[:4]
        le = None if len(apdu) < 5 else apdu[4] if len(apdu) == 5 else apdu[-1] if len(apdu) == 6 + apdu[4] else None
        if self.profile == "badge":
            if (cla, ins) == (0xFF, 0xCA) and p1 == 0:
                return self._exact(self.uid, le, zero_means_all=True)
            return _sw(0x6D00)
        if cla == 0xFF:
            return _sw(0x6A81)
        if ins == 0xA4:
            if p1 != 0x04 or len(apdu) < 5 or apdu[5:5 + apdu[4]] != SSC_AID:
                return _sw(0x6A82)
            self._selected = True
            fci = tlv.encode([tlv.Tlv(0x6F, tlv.encode([tlv.Tlv(0x84, SSC_AID)]))])
            self._pending = fci
            return _sw(0x6100 | len(fci))
        if ins == 0xC0:
            if not self._pending:
                return _sw(0x6985)
            size = le or 256
            part, self._pending = self._pending[:size], self._pending[size:]
            return part + (_sw(0x6100 | min(len(self._pending), 255)) if self._pending else _sw(0x9000))
        if not self._selected:
            return _sw(0x6985)
        if ins == 0xB0 and p1 == 0x85:
            info = tlv.encode([tlv.Tlv(t, _value(n, self.data[n])) for n, t in _CARD_INFO_TAGS.items()])
            return self._exact(info[p2:], le) if p2 < len(info) else _sw(0x6B00)
        if ins == 0xB2 and p2 == 0x34:
            names = list(_HOLDER_TAGS)
            if not 1 <= p1 <= len(names):
                return _sw(0x6A83)
            name = names[p1 - 1]
            return tlv.encode([tlv.Tlv(_HOLDER_TAGS[name], _value(name, self.data[name]))]) + _sw(0x9000)
        if ins in (0xB0, 0xB2):
            return _sw(0x6A82)
        return _sw(0x6D00)

    @staticmethod
    def _exact(data: bytes, le: int | None, zero_means_all: bool = False) -> bytes:
        """``data`` + 9000 if Le asks for exactly that much, else 6C with the size."""
        if le == len(data) or (zero_means_all and le in (None, 0)):
            return data + _sw(0x9000)
        return _sw(0x6C00 | (len(data) & 0xFF))
