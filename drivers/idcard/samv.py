"""Resident ID cards through a SAM reader on serial or USB-serial (``driver = "samv"``).

A read is find (20 01) → select (20 02) → read (30 01), retrying find until the
caller's timeout. A background monitor notices the reader unplugged and plugged
back (the port vanishing and reappearing) and a card placed or taken away
(detail ``card``: present / absent / unknown).
"""
from __future__ import annotations

import grp
import logging
import os
import select
import termios
import time
from concurrent.futures import Future
from dataclasses import dataclass

import serial

from drivers.base import (
    Device, DeviceError, DeviceTimeout, DeviceUnavailable, MediaError, Options, ProtocolError, Recovery,
    Status,
)
from drivers.idcard import samv_protocol as sp
from drivers.idcard.identity import Identity
from l10n import N_

log = logging.getLogger(__name__)
BAUDRATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
_GONE = ("idcard.port_missing", "idcard.unplugged", "idcard.not_answering", "idcard.port_error")


@dataclass(frozen=True)
class SamvOptions(Options):
    port: str  # e.g. /dev/ttyUSB0, or a udev symlink such as /dev/idcard
    baudrate: int = 115200
    timeout_s: float = 2.0  # wait for one answer
    poll_interval_s: float = 0.5  # the monitor's and the card search's pace

    def __post_init__(self) -> None:
        if not self.port:
            raise ValueError("port: must not be empty")
        if self.baudrate not in BAUDRATES:
            raise ValueError(f"baudrate: must be one of {', '.join(map(str, BAUDRATES))}")
        if not 0.05 <= self.timeout_s <= 60:
            raise ValueError("timeout_s: must be between 0.05 and 60")
        if not 0.01 <= self.poll_interval_s <= 60:
            raise ValueError("poll_interval_s: must be between 0.01 and 60")


def _missing(port: str) -> DeviceUnavailable:
    return DeviceUnavailable(
        "idcard.port_missing",
        N_("The ID card reader's port {port} does not exist: check its cable and the udev rule."),
        port=port)


def _unplugged(port: str) -> DeviceUnavailable:
    return DeviceUnavailable("idcard.unplugged", N_("The ID card reader on {port} was disconnected."),
                             port=port)


class SamvReader(Device):
    """A resident-ID SAM reader. ``read_identity`` returns a Future of the ``Identity``."""

    kind = "idcard"
    Options = SamvOptions
    options: SamvOptions

    def __init__(self, name: str, options: SamvOptions):
        super().__init__(name, options)
        self._serial: serial.Serial | None = None
        self._frames = sp.FrameReader(self._read_chunk)

    # -- public --------------------------------------------------------------
    def read_identity(self, timeout: float = 10.0) -> Future[Identity]:
        """Wait up to ``timeout`` s for a card and read it; ``DeviceTimeout`` "idcard.no_card"."""
        return self.submit(self._guarded, self._read_identity, timeout)

    def probe(self) -> None:
        self._guarded(self._probe)

    def check_environment(self) -> list[DeviceError]:
        port = self.options.port
        if not os.path.exists(port):
            return [_missing(port)]
        if not os.access(port, os.R_OK | os.W_OK):
            try:
                group = grp.getgrgid(os.stat(port).st_gid).gr_name
            except KeyError:
                group = str(os.stat(port).st_gid)
            return [DeviceUnavailable(
                "idcard.port_permission",
                N_("No permission to use {port}: add the kiosk user to the group '{group}'."),
                port=port, group=group)]
        return []

    def start(self) -> None:
        super().start()
        self._start_monitor(lambda: self._submit_every(self.options.poll_interval_s, self._poll))

    def _release(self) -> None:
        self._close_port()

    # -- on the worker ---------------------------------------------------------
    def _guarded(self, fn, *args):
        """Run ``fn``; a reader that is gone or broken is recorded in the status."""
        try:
            return fn(*args)
        except DeviceUnavailable as exc:
            if exc.code in _GONE:
                self._close_port()
            status = Status.HARDWARE_ERROR if exc.code == "idcard.module_failed" else Status.OFFLINE
            self._set_state(status, card="unknown")
            raise

    def _probe(self) -> None:
        answer = self._command(sp.STATUS)
        if answer.sw3 != sp.OK:
            raise sp.sw3_error(answer.sw3)
        self._set_state(Status.ONLINE, card="present" if self._find() else "absent")

    def _read_identity(self, timeout: float) -> Identity:
        deadline = time.monotonic() + timeout
        self._open()
        self._set_state(Status.BUSY)
        try:
            while not (self._find() and self._select()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._set_state(Status.ONLINE, card="absent")
                    raise DeviceTimeout("idcard.no_card", N_("No ID card was placed on the reader."))
                if self._closing.wait(min(self.options.poll_interval_s, remaining)):
                    raise DeviceUnavailable("idcard.closed", N_("The ID card reader was closed."))
            identity = self._read()
        except (MediaError, ProtocolError):
            self._set_state(Status.ONLINE)
            raise
        self._set_state(Status.ONLINE, card="present")
        return identity

    def _find(self) -> bool:
        sw3 = self._command(sp.FIND).sw3
        if sw3 not in (sp.FOUND, sp.NO_CARD):
            raise sp.sw3_error(sw3)
        return sw3 == sp.FOUND

    def _select(self) -> bool:
        sw3 = self._command(sp.SELECT).sw3
        if sw3 not in (sp.OK, sp.SELECT_FAILED):
            raise sp.sw3_error(sw3)
        return sw3 == sp.OK

    def _read(self) -> Identity:
        answer = self._command(sp.READ)
        if answer.sw3 == sp.READ_FAILED and not self._find():
            self._set_state(Status.ONLINE, card="absent")
            raise MediaError("idcard.card_removed",
                             N_("The ID card was taken away before it was read. Please place it again."),
                             recovery=Recovery.RETRY)
        if answer.sw3 != sp.OK:
            raise sp.sw3_error(answer.sw3)
        return sp.decode_read(answer.data)

    def _command(self, command: tuple[int, int]) -> sp.Response:
        """Send ``command`` and return the answer; a damaged frame is retried once."""
        for attempt in (1, 2):
            port = self._open()
            try:
                port.reset_input_buffer()
                self._frames.clear()
                port.write(sp.request(command))
                answer = sp.parse_response(self._frames.read_frame(self.options.timeout_s))
            except (serial.SerialException, OSError, termios.error, DeviceUnavailable):
                self._close_port()  # unplugged; it may be back already under the same path
                if attempt == 2:
                    raise _unplugged(self.options.port) from None
                continue
            except sp.FrameError as exc:
                log.warning("%s: %s (attempt %d)", self.name, exc, attempt)
                if attempt == 2:
                    raise
                continue
            except DeviceTimeout:
                raise DeviceUnavailable("idcard.not_answering",
                                        N_("The ID card reader on {port} does not answer."),
                                        port=self.options.port) from None
            if answer.sw3 == sp.CHECKSUM_ERROR and attempt == 1:
                continue  # the module got our command damaged: send it again
            return answer  # a second 0x10 goes to the caller, which raises it

    def _read_chunk(self, timeout: float) -> bytes:
        fd = self._serial.fileno()
        try:
            if not select.select([fd], [], [], timeout)[0]:
                return b""
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:  # readable but empty: the other end is gone
            raise _unplugged(self.options.port)
        return data

    def _open(self) -> serial.Serial:
        if self._serial is not None:
            if os.path.exists(self.options.port):
                return self._serial
            self._close_port()
        port = self.options.port
        if not os.path.exists(port):
            raise _missing(port)
        try:
            self._serial = serial.Serial(port, self.options.baudrate, timeout=0,
                                         write_timeout=self.options.timeout_s, exclusive=True)
        except (serial.SerialException, OSError, termios.error) as exc:
            problems = self.check_environment()
            if problems:
                raise problems[0] from None
            raise DeviceUnavailable("idcard.port_error", N_("Cannot open {port}: {error}"),
                                    port=port, error=str(exc)) from None
        log.info("%s: opened %s", self.name, port)
        return self._serial

    def _close_port(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError, termios.error):
                pass
            self._serial = None

    def _poll(self) -> None:
        """One monitor round: find the reader if it was gone, else look for a card."""
        try:
            if self._serial is None or self.state.status is not Status.ONLINE:
                self._guarded(self._probe)
            else:
                present = self._guarded(self._find)
                self._set_state(Status.ONLINE, card="present" if present else "absent")
        except DeviceError as exc:
            log.debug("%s: %s", self.name, exc)
