"""PC/SC card readers through pcscd (pyscard): staff badges and contact cards.

A monitor thread follows pcscd with ``SCardGetStatusChange`` (with a timeout, so it
notices ``close``): reader present/absent, card present/absent, and pcscd itself going
away (status offline) and coming back (it reconnects by itself). Card I/O runs on the
device worker; each exchange with the card runs in a helper thread with its own PC/SC
context and a deadline, because pcscd may never answer for a mute card.

``socket`` sets ``PCSCLITE_CSOCK_NAME``, which libpcsclite reads once per process:
every PcscReader in one process must use the same socket.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, TypeVar

from smartcard import scard

from drivers.base import (Device, DeviceError, DeviceTimeout, DeviceUnavailable, MediaError, Options,
                          ProtocolError, Recovery, Status)
from drivers.idcard.apdu import Transmit
from drivers.idcard.card_profiles import load_profiles, run_profile
from l10n import N_

log = logging.getLogger(__name__)
T = TypeVar("T")
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"
DEFAULT_SOCKET = "/run/pcscd/pcscd.comm"
PNP = "\\\\?PnP?\\Notification"
GONE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_F_COMM_ERROR,
        scard.SCARD_E_INVALID_HANDLE, scard.SCARD_F_INTERNAL_ERROR}
NO_READER = {scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_NO_READERS_AVAILABLE}
NO_CARD = {scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_REMOVED_CARD, scard.SCARD_W_RESET_CARD,
           scard.SCARD_W_UNPOWERED_CARD, scard.SCARD_W_UNRESPONSIVE_CARD}
UID_LENGTHS = (4, 7, 10)
_socket_fixed = False  # set once libpcsclite has read SOCKET_ENV


@dataclass(frozen=True)
class PcscOptions(Options):
    """``[devices.NAME] driver = "pcsc"`` keys."""

    reader: str = ""  # part of the reader's name; "" = the first reader
    socket: str | None = None  # pcscd's socket; None = libpcsclite's default (process-wide)
    profile: str = "badge"  # card profile read_profile() runs (drivers/idcard/profiles.toml)
    poll_interval_s: float = 0.5  # how often the monitor looks again (and notices close)
    card_timeout_s: float = 5.0  # how long a card may take to answer one read

    def __post_init__(self) -> None:
        if not 0.05 <= self.poll_interval_s <= 60:
            raise ValueError("poll_interval_s must be between 0.05 and 60")
        if not 0.1 <= self.card_timeout_s <= 120:
            raise ValueError("card_timeout_s must be between 0.1 and 120")
        if self.profile not in load_profiles():
            raise ValueError(f"profile must be one of {', '.join(load_profiles())}")


@dataclass(frozen=True)
class CardEvent:
    """A card put on or taken off the reader; ``uid`` for contactless cards that gave one."""

    reader: str
    inserted: bool
    atr: str = ""
    uid: str | None = None

    @property
    def removed(self) -> bool:
        return not self.inserted


def is_contactless(atr: bytes) -> bool:
    """PC/SC part 3: a contactless card's ATR is 3B 8x 80 01 ..."""
    return len(atr) >= 4 and atr[0] == 0x3B and atr[1] & 0xF0 == 0x80 and atr[2:4] == b"\x80\x01"


def _socket() -> str:
    return os.environ.get(SOCKET_ENV, DEFAULT_SOCKET)


def _pcscd_down() -> DeviceUnavailable:
    return DeviceUnavailable("idcard.pcscd_not_running",
                             N_("The smart card service (pcscd) is not running (socket {socket})."),
                             socket=_socket())


def _failed(hr: int) -> DeviceError:
    """The DeviceError for a failed PC/SC call."""
    if hr in GONE:
        return _pcscd_down()
    if hr in NO_READER:
        return DeviceUnavailable("idcard.no_reader", N_("No smart card reader is connected."))
    if hr in NO_CARD:
        return MediaError("idcard.card_removed", N_("The card was taken out before it had been read."),
                          recovery=Recovery.RETRY)
    return ProtocolError("idcard.transmit_failed", N_("Talking to the card failed: {error}"),
                         error=scard.SCardGetErrorMessage(hr))


@contextmanager
def _context() -> Iterator[Any]:
    global _socket_fixed
    _socket_fixed = True
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise _failed(hr)
    try:
        yield ctx
    finally:
        scard.SCardReleaseContext(ctx)


class PcscReader(Device):
    """A PC/SC reader: card events, badge UIDs and card profiles."""

    kind = "smartcard"
    Options = PcscOptions

    def __init__(self, name: str, options: PcscOptions | None = None):
        super().__init__(name, options)
        self._socket_ok = self._use_socket(self.options.socket)
        self._card_listeners: list[Callable[[CardEvent], None]] = []
        self._stuck: threading.Thread | None = None  # an exchange a mute card never answered
        self._set_state(Status.OFFLINE, reader="absent", card="absent")

    @staticmethod
    def _use_socket(path: str | None) -> bool:
        if path is None or os.environ.get(SOCKET_ENV) == path:
            return True
        if _socket_fixed and SOCKET_ENV in os.environ:
            log.error("pcscd socket %s ignored: this process already uses %s", path, _socket())
            return False
        os.environ[SOCKET_ENV] = path
        return True

    # -- listeners ---------------------------------------------------------------
    def on_card(self, callback: Callable[[CardEvent], None]) -> Callable[[], None]:
        """Call ``callback(CardEvent)`` (on the device worker) for every card in or out."""
        with self._lock:
            self._card_listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._card_listeners:
                    self._card_listeners.remove(callback)

        return unsubscribe

    def _emit(self, event: CardEvent) -> None:
        with self._lock:
            listeners = list(self._card_listeners)
        for callback in listeners:
            try:
                callback(event)
            except Exception:
                log.exception("card listener failed for %s", self.name)

    # -- status ----------------------------------------------------------------
    def _find_reader(self, ctx: Any) -> str | None:
        hr, readers = scard.SCardListReaders(ctx, [])
        if hr in NO_READER or (hr == scard.SCARD_S_SUCCESS and not readers):
            return None
        if hr != scard.SCARD_S_SUCCESS:
            raise _failed(hr)
        return next((r for r in readers if self.options.reader in r), None)

    def probe(self) -> None:
        try:
            with _context() as ctx:
                reader = self._find_reader(ctx)
                if reader is None:
                    self._set_state(Status.NO_DEVICE, reader="absent", card="absent")
                    return
                hr, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
                if hr != scard.SCARD_S_SUCCESS:
                    raise _failed(hr)
                present = bool(states[0][1] & scard.SCARD_STATE_PRESENT)
                self._set_state(Status.ONLINE, reader="present", card="present" if present else "absent")
        except DeviceUnavailable:
            self._set_state(Status.OFFLINE, reader="absent", card="absent")

    def check_environment(self) -> list[DeviceError]:
        if not self._socket_ok:
            return [DeviceUnavailable("idcard.socket_conflict",
                                      N_("This program already uses the pcscd socket {current}; "
                                         "it cannot also use {socket}."),
                                      current=_socket(), socket=self.options.socket)]
        if not os.path.exists(_socket()):
            return [_pcscd_down()]
        try:
            with _context() as ctx:
                if self._find_reader(ctx) is None:
                    return [DeviceUnavailable("idcard.no_reader_named",
                                              N_("No smart card reader whose name contains '{reader}' is connected."),
                                              reader=self.options.reader)]
        except DeviceError as exc:
            return [exc]
        return []

    # -- monitor ---------------------------------------------------------------
    def start(self) -> None:
        super().start()
        self._start_monitor(self._watch_forever, join_timeout=self.options.poll_interval_s * 4 + 2)

    def _watch_forever(self) -> None:
        card = {"present": False}
        while not self._closing.is_set():
            try:
                with _context() as ctx:
                    self._watch(ctx, card)
            except DeviceError as exc:
                log.debug("%s: monitor: %s", self.name, exc)
            if self._closing.is_set():
                return
            self._set_state(Status.OFFLINE, reader="absent", card="absent")  # one change: no card without pcscd
            self._card_changed(card, None, False, b"")  # the card's leaving, as an event
            self._closing.wait(self.options.poll_interval_s)

    def _watch(self, ctx: Any, card: dict[str, Any]) -> None:
        """Follow one pcscd until it goes away (DeviceError) or close()."""
        reader, reader_state, pnp_state = None, scard.SCARD_STATE_UNAWARE, scard.SCARD_STATE_UNAWARE
        while not self._closing.is_set():
            found = self._find_reader(ctx)
            if found != reader or self.state.status is Status.OFFLINE:
                reader, reader_state = found, scard.SCARD_STATE_UNAWARE
                if reader is None:
                    self._set_state(Status.NO_DEVICE, reader="absent")
                    self._card_changed(card, None, False, b"")
                elif self.state.status is not Status.BUSY:
                    self._set_state(Status.ONLINE, reader="present")
            watch = [(PNP, pnp_state)] + ([(reader, reader_state)] if reader else [])
            hr, states = scard.SCardGetStatusChange(ctx, int(self.options.poll_interval_s * 1000), watch)
            if hr in (scard.SCARD_E_TIMEOUT, *NO_READER):
                continue
            if hr != scard.SCARD_S_SUCCESS:
                raise _failed(hr)
            for name, event, atr in states:
                if name == PNP:
                    pnp_state = event & ~scard.SCARD_STATE_CHANGED
                    continue
                reader_state = event & ~scard.SCARD_STATE_CHANGED
                present = bool(event & scard.SCARD_STATE_PRESENT) and not event & scard.SCARD_STATE_MUTE
                self._card_changed(card, name, present, bytes(atr))

    def _card_changed(self, card: dict[str, Any], reader: str | None, present: bool, atr: bytes) -> None:
        if present == card["present"]:
            return
        card["present"] = present
        if present:
            card["reader"] = reader
            self.submit(self._card_arrived, reader, atr)
        else:
            self.submit(self._card_left, card.get("reader") or "")

    def _card_arrived(self, reader: str, atr: bytes) -> None:
        uid = None
        if is_contactless(atr):
            try:
                uid = self._exchange(reader, _uid_of, self.options.card_timeout_s)
            except DeviceError as exc:
                log.warning("%s: no UID from the contactless card: %s", self.name, exc)
        self._set_state(self.state.status, card="present")
        self._emit(CardEvent(reader, True, atr.hex().upper(), uid))

    def _card_left(self, reader: str) -> None:
        self._set_state(self.state.status, card="absent")
        self._emit(CardEvent(reader, False))

    # -- card I/O ----------------------------------------------------------------
    def read_uid(self, timeout: float = 10.0) -> Future[str]:
        """A contactless card's UID in hex (``FF CA 00 00 00``), waiting ``timeout`` s for a card."""
        return self.submit(self._transaction, _uid_of, timeout)

    def read_profile(self, name: str | None = None, timeout: float = 10.0) -> Future[dict[str, str]]:
        """Run card profile ``name`` (default: the configured one): its fields by name."""
        profile = load_profiles()[name or self.options.profile]  # KeyError: no such profile
        return self.submit(self._transaction, lambda transmit: run_profile(profile, transmit), timeout)

    def _transaction(self, work: Callable[[Transmit], T], timeout: float) -> T:
        deadline = time.monotonic() + timeout
        with _context() as ctx:
            reader = self._find_reader(ctx)
            if reader is None:
                raise _failed(scard.SCARD_E_NO_READERS_AVAILABLE)
            self._wait_for_card(ctx, reader, deadline)
        previous = self.state.status
        self._set_state(Status.BUSY)
        try:
            return self._exchange(reader, work, self.options.card_timeout_s)
        finally:
            if self.state.status is Status.BUSY:
                self._set_state(previous)

    def _wait_for_card(self, ctx: Any, reader: str, deadline: float) -> None:
        state = scard.SCARD_STATE_UNAWARE
        while True:
            wait_ms = max(0, int(min(deadline - time.monotonic(), self.options.poll_interval_s) * 1000))
            hr, states = scard.SCardGetStatusChange(ctx, wait_ms if state else 0, [(reader, state)])
            if hr == scard.SCARD_S_SUCCESS:
                state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                if state & scard.SCARD_STATE_PRESENT and not state & scard.SCARD_STATE_MUTE:
                    return
            elif hr != scard.SCARD_E_TIMEOUT:
                raise _failed(hr)
            if time.monotonic() >= deadline:
                raise DeviceTimeout("idcard.no_card", N_("No card was presented in time."))

    def _exchange(self, reader: str, work: Callable[[Transmit], T], timeout: float) -> T:
        """``work(transmit)`` on a connection to the card, in a helper thread with a deadline."""
        if self._stuck is not None:
            self._stuck.join(timeout)
            if self._stuck.is_alive():
                raise _mute()
            self._stuck = None
        box: dict[str, Any] = {}
        helper = threading.Thread(target=_talk, args=(reader, work, box), name=f"pcsc-io-{self.name}", daemon=True)
        helper.start()
        helper.join(timeout)
        if helper.is_alive():
            self._stuck = helper
            raise _mute()
        if "error" in box:
            raise box["error"]
        return box["result"]


def _mute() -> DeviceTimeout:
    return DeviceTimeout("idcard.card_mute", N_("The card did not answer in time."))


def _talk(reader: str, work: Callable[[Transmit], Any], box: dict[str, Any]) -> None:
    """Connect to the card on ``reader`` and run ``work``; the result or error goes in ``box``."""
    try:
        with _context() as ctx:
            hr, card, protocol = scard.SCardConnect(
                ctx, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
            if hr != scard.SCARD_S_SUCCESS:
                raise _failed(hr)

            def transmit(command: bytes) -> bytes:
                hr, response = scard.SCardTransmit(card, protocol, list(command))
                failed = hr == scard.SCARD_E_NOT_TRANSACTED or (hr == scard.SCARD_S_SUCCESS and not response)
                if failed and _card_gone(ctx, reader):  # vpcd answers "nothing" for a card pulled out
                    hr = scard.SCARD_W_REMOVED_CARD
                if hr != scard.SCARD_S_SUCCESS:
                    raise _failed(hr)
                return bytes(response)

            try:
                box["result"] = work(transmit)
            finally:
                scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
    except DeviceError as exc:
        box["error"] = exc
    except Exception as exc:  # a bug must still end the read with an error, not a hang
        log.exception("card exchange failed")
        box["error"] = ProtocolError("idcard.transmit_failed", N_("Talking to the card failed: {error}"),
                                     error=str(exc))


def _card_gone(ctx: Any, reader: str) -> bool:
    """True when the card left ``reader`` (pcscd notices within about a second)."""
    hr, states = scard.SCardGetStatusChange(ctx, 1500, [(reader, scard.SCARD_STATE_PRESENT)])
    return hr == scard.SCARD_S_SUCCESS and not states[0][1] & scard.SCARD_STATE_PRESENT


def _uid_of(transmit: Transmit) -> str:
    uid = run_profile(load_profiles()["badge"], transmit)["uid"]
    if len(uid) // 2 not in UID_LENGTHS:
        raise ProtocolError("idcard.bad_response", N_("The card's answer to '{step}' makes no sense: {reason}"),
                            step="uid", reason=f"a UID of {len(uid) // 2} bytes")
    return uid
