"""A4 printing through a CUPS queue (pycups): submit a PDF and follow the job to its end.

Status: queue idle → online, processing → busy, stopped → hardware_error (with the
printer-state-message), cupsd unreachable → offline, no such queue → no_device.
``start()`` polls the queue every ``poll_s`` seconds so a stopped cupsd shows.

A job that meets a stopped queue or runs out of time is cancelled, not left behind:
an unattended terminal must not print someone's certificate hours later.
"""
from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import cups

from drivers.base import (Device, DeviceError, DeviceTimeout, DeviceUnavailable, MediaError,
                          Options, Status)
from drivers.printer.testpage import cjk_font, make_test_page
from l10n import N_

log = logging.getLogger(__name__)

JOB_STATES = {3: "pending", 4: "held", 5: "processing", 6: "stopped", 7: "canceled",
              8: "aborted", 9: "completed"}
QUEUE_STATES = {3: "idle", 4: "processing", 5: "stopped"}
_JOB_ATTRS = ["job-state", "job-state-reasons", "job-printer-state-message",
              "job-impressions-completed", "job-media-progress"]
_PRINTER_ATTRS = ["printer-state", "printer-state-message", "printer-state-reasons",
                  "printer-is-accepting-jobs"]


@dataclass(frozen=True)
class CupsOptions(Options):
    """``[devices.NAME] driver = "cups"``.

    queue: the CUPS queue name. server: cupsd's unix socket path or ``host:port``
    (default: the system's). timeout_s: for each request to cupsd. job_timeout_s: from
    submission to the job's end. poll_s: status polling interval after ``start()``.
    """

    queue: str
    server: str | None = None
    timeout_s: float = 5.0
    job_timeout_s: float = 120.0
    poll_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.queue or "/" in self.queue:
            raise ValueError(f"queue: not a CUPS queue name: {self.queue!r}")
        for key in ("timeout_s", "job_timeout_s", "poll_s"):
            if not 0 < getattr(self, key) <= 3600:
                raise ValueError(f"{key}: must be between 0 and 3600 seconds")


@dataclass(frozen=True)
class CupsJobProgress:
    """What a progress callback receives while a job runs."""

    job_id: int
    state: str  # one of JOB_STATES' values
    impressions: int | None  # pages printed so far, where CUPS counts them
    percent: int | None  # job-media-progress, where the printer reports it


@dataclass(frozen=True)
class CupsJobResult:
    job_id: int
    queue: str
    title: str
    impressions: int | None


class CupsPrinter(Device):
    kind = "a4_printer"
    Options = CupsOptions

    # -- connection ------------------------------------------------------------
    def _server(self) -> str:
        return self.options.server or cups.getServer()

    def _connect(self) -> cups.Connection:
        """A fresh connection (pycups connections are not thread-safe), reachability first."""
        server = self._server()
        try:
            if server.startswith("/"):
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(self.options.timeout_s)
                    s.connect(server)
                return cups.Connection(host=server)
            host, _, port = server.rpartition(":") if ":" in server else (server, "", "631")
            socket.create_connection((host, int(port)), timeout=self.options.timeout_s).close()
            return cups.Connection(host=host, port=int(port))
        except (OSError, RuntimeError, ValueError):
            self._set_state(Status.OFFLINE, message="")
            raise DeviceUnavailable("cups.unreachable", N_("CUPS is not running at {server}"),
                                    server=server) from None

    def _ipp_error(self, exc: cups.IPPError) -> DeviceError:
        status, text = exc.args if len(exc.args) == 2 else (None, str(exc))
        if status == cups.IPP_NOT_FOUND:
            self._set_state(Status.NO_DEVICE, message="")
            return DeviceUnavailable("cups.no_queue", N_("The print queue {queue} does not exist"),
                                     queue=self.options.queue)
        if status == cups.IPP_NOT_ACCEPTING:
            return MediaError("cups.rejecting", N_("The printer {queue} is not accepting jobs"),
                              queue=self.options.queue)
        return DeviceError("cups.ipp_error", N_("CUPS refused the request: {error}"), error=text)

    # -- status ----------------------------------------------------------------
    def probe(self) -> None:
        conn = self._connect()
        try:
            attrs = conn.getPrinterAttributes(self.options.queue, requested_attributes=_PRINTER_ATTRS)
        except cups.IPPError as exc:
            raise self._ipp_error(exc) from None
        self._apply(attrs)

    def _apply(self, attrs: dict) -> None:
        state = QUEUE_STATES.get(attrs.get("printer-state"), "stopped")
        reasons = attrs.get("printer-state-reasons") or []
        if isinstance(reasons, str):
            reasons = [reasons]
        paper = ("out" if any(r.startswith("media-empty") or r.startswith("media-needed") for r in reasons)
                 else "near_end" if any(r.startswith("media-low") for r in reasons) else "ok")
        cover = "open" if any(r.startswith(("cover-open", "door-open")) for r in reasons) else "closed"
        accepting = attrs.get("printer-is-accepting-jobs", True)
        if state == "stopped" or not accepting or paper == "out" or cover == "open":
            status = Status.HARDWARE_ERROR
        else:
            status = Status.BUSY if state == "processing" else Status.ONLINE
        self._set_state(status, queue_state=state, message=attrs.get("printer-state-message") or "",
                        paper=paper, cover=cover, accepting="yes" if accepting else "no")

    def check_environment(self) -> list[DeviceError]:
        problems: list[DeviceError] = []
        if cjk_font() is None:
            problems.append(DeviceUnavailable(
                "cups.no_cjk_font", N_("No Chinese font is installed: install the package {package}"),
                package="fonts-noto-cjk"))
        try:
            conn = self._connect()
            if self.options.queue not in conn.getPrinters():
                problems.append(DeviceUnavailable(
                    "cups.no_queue", N_("The print queue {queue} does not exist"), queue=self.options.queue))
        except DeviceError as exc:
            problems.append(exc)
        except cups.IPPError as exc:
            problems.append(self._ipp_error(exc))
        return problems

    # -- monitoring --------------------------------------------------------------
    def start(self) -> None:
        super().start()
        self._start_monitor(lambda: self._submit_every(self.options.poll_s, self._refresh))

    # -- printing ----------------------------------------------------------------
    def print_pdf(self, path: Path | str, title: str = "document",
                  progress: Callable[[CupsJobProgress], None] | None = None) -> Future[CupsJobResult]:
        """Print the PDF at ``path`` and follow the job until it is done or fails."""
        return self.submit(self._print, Path(path), title, progress)

    def print_test_page(self, progress: Callable[[CupsJobProgress], None] | None = None
                        ) -> Future[CupsJobResult]:
        """Print an A4 page with Chinese text, a frame and a grey ramp."""
        return self.submit(self._print_test_page, progress)

    def _print_test_page(self, progress: Callable[[CupsJobProgress], None] | None) -> CupsJobResult:
        tmp = Path(tempfile.mkdtemp(prefix="kiosk-testpage-"))
        try:
            try:
                pdf = make_test_page(tmp / "test-page.pdf", self.options.queue, self.name)
            except FileNotFoundError:
                raise DeviceUnavailable("cups.no_cjk_font",
                                        N_("No Chinese font is installed: install the package {package}"),
                                        package="fonts-noto-cjk") from None
            return self._print(pdf, "Test page", progress)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _print(self, path: Path, title: str, progress: Callable[[CupsJobProgress], None] | None
               ) -> CupsJobResult:
        if not path.is_file():
            raise DeviceError("cups.no_file", N_("The document to print is missing: {path}"), path=str(path))
        conn = self._connect()
        try:
            job_id = conn.printFile(self.options.queue, str(path), title, {"document-format": "application/pdf"})
        except cups.IPPError as exc:
            raise self._ipp_error(exc) from None
        log.info("%s: job %d submitted (%s)", self.name, job_id, title)
        return self._follow(conn, job_id, title, progress)

    def _follow(self, conn: cups.Connection, job_id: int, title: str,
                progress: Callable[[CupsJobProgress], None] | None) -> CupsJobResult:
        deadline = time.monotonic() + self.options.job_timeout_s
        last: CupsJobProgress | None = None
        while True:
            try:
                attrs = conn.getJobAttributes(job_id, requested_attributes=_JOB_ATTRS)
                printer = conn.getPrinterAttributes(self.options.queue, requested_attributes=_PRINTER_ATTRS)
            except cups.IPPError as exc:
                raise self._ipp_error(exc) from None
            except RuntimeError:  # the connection dropped: cupsd went away
                self._set_state(Status.OFFLINE, message="")
                raise DeviceUnavailable("cups.unreachable", N_("CUPS is not running at {server}"),
                                        server=self._server()) from None
            self._apply(printer)
            state = JOB_STATES.get(attrs.get("job-state"), "aborted")
            now = CupsJobProgress(job_id, state, attrs.get("job-impressions-completed"),
                                  attrs.get("job-media-progress"))
            if progress is not None and now != last:
                progress(now)
            last = now
            message = attrs.get("job-printer-state-message") or printer.get("printer-state-message") or ""
            if state == "completed":
                return CupsJobResult(job_id, self.options.queue, title, now.impressions)
            if state in ("canceled", "aborted", "stopped"):
                raise DeviceError("cups.job_failed", N_("The print job failed: {message}"),
                                  state=state, message=message)
            if QUEUE_STATES.get(printer.get("printer-state")) == "stopped":
                self._cancel(conn, job_id)
                raise MediaError("cups.queue_stopped", N_("The printer {queue} is stopped: {message}"),
                                 queue=self.options.queue, message=message)
            if time.monotonic() > deadline:
                self._cancel(conn, job_id)
                raise DeviceTimeout("cups.job_timeout", N_("The print job did not finish in {seconds} s"),
                                    seconds=round(self.options.job_timeout_s))
            time.sleep(0.2)

    def _cancel(self, conn: cups.Connection, job_id: int) -> None:
        try:
            conn.cancelJob(job_id, purge_job=False)
        except (cups.IPPError, RuntimeError) as exc:
            log.warning("%s: could not cancel job %d: %s", self.name, job_id, exc)
