"""ESC/POS receipt printers over the network (port 9100), serial or USB.

Status comes from DLE EOT 1-4, polled in the background and mapped onto the device
model (``paper``: ok/near_end/out, ``cover``: closed/open, ``error``). A printer
that does not answer in time is ``offline`` (python-escpos 3.1 would call it "paper
adequate"; its status helpers are not used). A job that cannot print is kept in
``pending`` and printed later by ``retry_pending``; nothing accepted is lost.
"""
from __future__ import annotations

import logging
import os
import socket
from concurrent.futures import Future
from dataclasses import dataclass

from drivers.base import (Device, DeviceError, DeviceTimeout, DeviceUnavailable, MediaError,
                          Options, ProtocolError, Status)
from drivers.printer import escpos_status
from drivers.printer.escpos_transport import SerialLink, TcpLink, UsbLink
from drivers.printer.receipt import Receipt, diagnostic_page, render
from l10n import N_, Msg

log = logging.getLogger(__name__)
CONNECTIONS = ("network", "serial", "usb")
_ERROR_NAMES = {"unrecoverable": N_("an unrecoverable fault"), "autocutter": N_("the paper cutter is stuck"),
                "mechanical": N_("a mechanism fault")}


@dataclass(frozen=True)
class EscposOptions(Options):
    """``[devices.NAME] driver = "escpos"``; only the keys of the chosen connection matter."""

    connection: str = "network"
    host: str = "127.0.0.1"
    port: int = 9100
    device: str = "/dev/ttyUSB0"
    baudrate: int = 19200
    usb_vendor: int | None = None
    usb_product: int | None = None
    timeout_s: float = 2.0
    status_interval_s: float = 5.0

    def __post_init__(self) -> None:
        if self.connection not in CONNECTIONS:
            raise ValueError(f"connection must be one of {', '.join(CONNECTIONS)}, not {self.connection!r}")
        if self.connection == "network" and not self.host:
            raise ValueError("host must not be empty")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port must be 1-65535, not {self.port}")
        if self.connection == "serial" and not self.device:
            raise ValueError("device must not be empty")
        if self.baudrate <= 0:
            raise ValueError(f"baudrate must be positive, not {self.baudrate}")
        for key in ("usb_vendor", "usb_product"):
            value = getattr(self, key)
            if value is None and self.connection == "usb":
                raise ValueError(f"{key} is required when connection is usb")
            if value is not None and not 0 <= value <= 0xFFFF:
                raise ValueError(f"{key} must be 0-65535, not {value}")
        if not 0 < self.timeout_s <= 60:
            raise ValueError(f"timeout_s must be in (0, 60], not {self.timeout_s}")
        if not 0 < self.status_interval_s <= 3600:
            raise ValueError(f"status_interval_s must be in (0, 3600], not {self.status_interval_s}")


@dataclass(frozen=True)
class PendingJob:
    """A job not (fully) printed yet, and the error code that stopped it."""

    job_id: int
    receipt: Receipt
    reason: str


@dataclass(frozen=True)
class PrintResult:
    job_id: int
    bytes_sent: int
    paper: str  # the paper state reported after printing


class EscposPrinter(Device):
    kind = "receipt_printer"
    Options = EscposOptions
    options: EscposOptions

    def __init__(self, name: str, options: EscposOptions | None = None):
        super().__init__(name, options)
        self._link = None
        self._pending: tuple[PendingJob, ...] = ()
        self._next_id = 1

    # -- public API ------------------------------------------------------------
    @property
    def pending(self) -> tuple[PendingJob, ...]:
        return self._pending

    def print_job(self, job: Receipt) -> Future[PrintResult]:
        """Check status, then print; paper out / cover open keep the job in ``pending``."""
        if not isinstance(job, Receipt):
            raise TypeError(f"print_job takes a Receipt, not {type(job).__name__}")
        return self.submit(self._print_new, job)

    def print_test_page(self) -> Future[PrintResult]:
        return self.print_job(diagnostic_page())

    def retry_pending(self) -> Future[list[PrintResult]]:
        """Print the kept jobs in order; the first failure stops and raises, the rest stay."""
        return self.submit(self._retry)

    def discard_pending(self) -> Future[int]:
        """Forget the kept jobs (staff decided not to reprint); returns how many."""
        return self.submit(self._discard)

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        super().start()  # then DLE EOT every status_interval_s, skipped while a job prints
        self._start_monitor(lambda: self._submit_every(self.options.status_interval_s, self._refresh))

    def _release(self) -> None:
        self._disconnect()

    def probe(self) -> None:
        self._read_status()

    def check_environment(self) -> list[DeviceError]:
        o = self.options
        if o.connection == "network":
            try:
                socket.getaddrinfo(o.host, o.port)
            except OSError:
                return [DeviceUnavailable("printer.host_unknown",
                                          N_("The printer host {host} cannot be resolved."), host=o.host)]
            return []
        if o.connection == "serial":
            return _check_device_file(o.device)
        return _check_usb(o.usb_vendor, o.usb_product)

    # -- on the worker ---------------------------------------------------------
    def _print_new(self, job: Receipt) -> PrintResult:
        entry = PendingJob(self._next_id, job, "")
        self._next_id += 1
        return self._print(entry)

    def _retry(self) -> list[PrintResult]:
        return [self._print(entry) for entry in self._pending]

    def _discard(self) -> int:
        count, self._pending = len(self._pending), ()
        return count

    def _print(self, entry: PendingJob) -> PrintResult:
        try:
            self._ready_or_raise(self._read_status())
            data = render(entry.receipt)
            self._set_state(Status.BUSY)
            try:
                self._link.write(data)
            except OSError as exc:
                raise self._gone(exc) from exc
            after = self._after_print()
        except DeviceError as exc:
            self._keep(entry, exc.code)
            raise
        self._pending = tuple(p for p in self._pending if p.job_id != entry.job_id)
        log.info("%s: printed job %d (%d bytes)", self.name, entry.job_id, len(data))
        return PrintResult(entry.job_id, len(data), after)

    def _after_print(self) -> str:
        """Status after sending: paper out now means the receipt may be cut short."""
        try:
            report = self._read_status()
        except DeviceError as exc:  # the data went out; a late status is no reason to reprint
            log.warning("%s: no status after printing: %s", self.name, exc)
            return self.state.detail.get("paper", "unknown")
        if report.paper == "out":
            raise MediaError("printer.paper_out", N_("The receipt printer is out of paper."))
        return report.paper

    def _keep(self, entry: PendingJob, reason: str) -> None:
        kept = PendingJob(entry.job_id, entry.receipt, reason)
        others = tuple(p for p in self._pending if p.job_id != entry.job_id)
        self._pending = tuple(sorted(others + (kept,), key=lambda p: p.job_id))
        log.warning("%s: job %d kept (%s)", self.name, entry.job_id, reason)

    @staticmethod
    def _ready_or_raise(report: escpos_status.Report) -> None:
        if report.paper == "out":
            raise MediaError("printer.paper_out", N_("The receipt printer is out of paper."))
        if report.cover == "open":
            raise MediaError("printer.cover_open", N_("The receipt printer's cover is open."))
        if report.status is Status.HARDWARE_ERROR:
            raise DeviceError("printer.hardware_error",
                              N_("The receipt printer reports a hardware error ({error})."),
                              error=Msg(_ERROR_NAMES[report.error.kind]))
        if report.status is Status.BUSY:
            raise DeviceTimeout("printer.recovering",
                                N_("The receipt printer is recovering from an error; please wait."))

    def _read_status(self) -> escpos_status.Report:
        """Ask DLE EOT 1-4 and set the state; every failure sets it too, then raises."""
        answers = bytearray()
        try:
            link = self._connect()
            link.discard_input()
            for n in (1, 2, 3, 4):
                link.write(escpos_status.request(n))
                answer = link.read(self.options.timeout_s)
                if not answer:
                    self._disconnect()
                    self._set_state(Status.OFFLINE)
                    raise DeviceTimeout("printer.no_answer",
                                        N_("The receipt printer does not answer status requests."))
                answers += answer
            report = escpos_status.Report.parse(bytes(answers))
        except OSError as exc:
            raise self._gone(exc) from exc
        except escpos_status.StatusByteError as exc:
            self._disconnect()
            self._set_state(Status.HARDWARE_ERROR)
            raise ProtocolError("printer.bad_status",
                                N_("The receipt printer sent an invalid status byte ({value})."),
                                value=f"0x{exc.value:02x}") from exc
        self._set_state(report.status, **report.detail())
        return report

    def _gone(self, exc: OSError) -> DeviceUnavailable:
        self._disconnect()
        self._set_state(Status.OFFLINE)
        return DeviceUnavailable("printer.offline", N_("The receipt printer is offline: {error}"),
                                 error=str(exc) or type(exc).__name__)

    def _connect(self):
        if self._link is None:
            o = self.options
            if o.connection == "network":
                self._link = TcpLink(o.host, o.port, o.timeout_s)
            elif o.connection == "serial":
                self._link = SerialLink(o.device, o.baudrate, o.timeout_s)
            else:
                self._link = UsbLink(o.usb_vendor, o.usb_product, o.timeout_s)
        return self._link

    def _disconnect(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            try:
                link.close()
            except OSError:
                log.debug("%s: closing the link failed", self.name, exc_info=True)


def _check_device_file(path: str) -> list[DeviceError]:
    if not os.path.exists(path):
        return [DeviceUnavailable("printer.port_missing",
                                  N_("The serial port {device} does not exist."), device=path)]
    if not os.access(path, os.R_OK | os.W_OK):
        return [DeviceUnavailable("printer.no_permission",
                                  N_("No permission to use {device}; add the kiosk user to its group."),
                                  device=path)]
    return []


def _check_usb(vendor: int, product: int) -> list[DeviceError]:
    import usb.core

    try:
        dev = usb.core.find(idVendor=vendor, idProduct=product)
    except usb.core.NoBackendError:
        return [DeviceUnavailable("printer.usb_backend", N_("USB support (libusb) is not installed."))]
    ids = f"{vendor:04x}:{product:04x}"
    if dev is None:
        return [DeviceUnavailable("printer.usb_missing", N_("No USB printer {ids} is connected."), ids=ids)]
    return _check_device_file(f"/dev/bus/usb/{dev.bus:03d}/{dev.address:03d}")
