"""A private CUPS server with a cups-pdf queue, for the demo and the tests.

``CupsSim(run_dir)`` runs ``cupsd -f`` with every path (config, spool, cache, state,
logs) inside ``run_dir`` and listens only on the unix socket ``run_dir/cups.sock``.
The queue prints through the real ``cups-pdf`` backend, so a job goes through the
real CUPS filter chain and ends as a PDF in ``run_dir/out``.

cups-pdf reads its configuration from a path compiled into it (``/etc/cups``); its
documented way to run several instances is a device URI ``cups-pdf:/NAME``, which
makes it read ``/etc/cups/cups-pdf-NAME.conf``. The simulator writes one such file,
with a name unique to this run, pointing output, spool and log into ``run_dir``, and
removes it on ``stop()``. That file is the only thing written outside ``run_dir``.

Faults, switchable at run time with ``set_fault``:

- ``"queue_stopped"``: the queue is disabled (``cupsdisable``): jobs stay pending.
- ``"job_fails"``: cups-pdf's output directory is made impossible: the backend fails
  every job, which is aborted (the queue's error policy is ``abort-job``).
- ``"cupsd_down"``: cupsd is stopped; ``set_fault(None)`` starts it again.
"""
from __future__ import annotations

import grp
import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import cups

from drivers.sim.base import Simulator
from fleet import lifeline  # the simulators end with the process that started them, even on SIGKILL

log = logging.getLogger(__name__)

PPD_CANDIDATES = (
    Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd"),
    Path("/usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd"),
    Path("/usr/share/cups/model/CUPS-PDF_opt.ppd"),
)
CUPS_PDF_CONF_DIR = Path("/etc/cups")
FAULTS = ("queue_stopped", "job_fails", "cupsd_down")

_CUPSD_CONF = """\
LogLevel info
Listen {socket}
Browsing No
WebInterface No
DefaultAuthType None
JobRetryLimit 0
MaxJobs 100
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""

_FILES_CONF = """\
ServerRoot {root}/etc
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/tmp
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
SystemGroup root
FileDevice No
Printcap {root}/printcap
"""

_CUPS_PDF_CONF = """\
Out {out}
Spool {root}/cups-pdf-spool
Log {root}/log
LogType 7
Grp lp
Label 1
GhostScript {gs}
"""


def _remove_stale_instances() -> None:
    """Remove instance files left by simulators that were killed before ``stop()``."""
    for conf in CUPS_PDF_CONF_DIR.glob("cups-pdf-kiosk-*.conf"):
        out = next((line.split(None, 1)[1].strip() for line in conf.read_text().splitlines()
                    if line.startswith("Out ")), "")
        if not out or not Path(out).parent.exists():
            conf.unlink(missing_ok=True)


class CupsSim(Simulator):
    """A private cupsd with one cups-pdf queue in ``run_dir``. Use as a context manager."""

    def __init__(self, run_dir: Path | str, queue: str = "kiosk-a4", start_timeout: float = 15.0):
        self.run_dir = Path(run_dir)
        self.queue = queue
        self.start_timeout = start_timeout
        self.socket_path = self.run_dir / "cups.sock"
        self.out_dir = self.run_dir / "out"
        self.instance = f"kiosk-{uuid.uuid4().hex[:12]}"
        self.fault: str | None = None
        self._proc: subprocess.Popen | None = None

    # -- lifecycle -----------------------------------------------------------
    @property
    def pdf_conf(self) -> Path:
        return CUPS_PDF_CONF_DIR / f"cups-pdf-{self.instance}.conf"

    def start(self) -> None:
        """Write the configuration, start cupsd, wait until it answers, create the queue."""
        if len(str(self.socket_path)) > 100:
            raise ValueError(f"run_dir too long for a unix socket: {self.run_dir}")
        self._check_reachable()
        _remove_stale_instances()
        for sub in ("etc/ppd", "spool", "cache", "state", "tmp", "log", "out"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        # cupsd runs filters as user lp: they must reach the spool files.
        for path in (self.run_dir, self.run_dir / "spool", self.out_dir):
            path.chmod(0o755)
        os.chown(self.run_dir / "tmp", 0, grp.getgrnam("lp").gr_gid)
        (self.run_dir / "tmp").chmod(0o1770)
        (self.run_dir / "cupsd.conf").write_text(_CUPSD_CONF.format(socket=self.socket_path))
        (self.run_dir / "cups-files.conf").write_text(_FILES_CONF.format(root=self.run_dir))
        self._write_pdf_conf(fail=False)
        self._start_cupsd()
        self._create_queue()

    def _check_reachable(self) -> None:
        """cupsd runs filters as user lp: every parent of run_dir must let others pass."""
        for parent in self.run_dir.resolve().parents:
            if not parent.stat().st_mode & 0o001:
                raise PermissionError(
                    f"{parent} is not searchable by others; cupsd's filters (user lp) could "
                    f"not read the spool: use a run directory under a world-searchable path"
                )

    def stop(self) -> None:
        """Stop cupsd and remove the cups-pdf instance file. Safe to call twice."""
        self._stop_cupsd()
        self.pdf_conf.unlink(missing_ok=True)

    def _start_cupsd(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        log_file = open(self.run_dir / "log" / "cupsd.out", "ab")
        self._proc = subprocess.Popen(
            lifeline.command(["cupsd", "-f", "-c", str(self.run_dir / "cupsd.conf"),
                              "-s", str(self.run_dir / "cups-files.conf")]),
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log_file.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"cupsd exited with {self._proc.returncode}: {self.error_log()}")
            if self._answers():
                return
            time.sleep(0.05)
        self._stop_cupsd()
        raise TimeoutError(f"cupsd did not answer on {self.socket_path}")

    def _stop_cupsd(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._proc = None

    def _answers(self) -> bool:
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(self.socket_path))
                return True
            except OSError:
                return False

    def connection(self) -> cups.Connection:
        return cups.Connection(host=str(self.socket_path))

    def _create_queue(self) -> None:
        ppd = next((p for p in PPD_CANDIDATES if p.exists()), None)
        if ppd is None:
            raise RuntimeError("no cups-pdf PPD found; install printer-driver-cups-pdf")
        conn = self.connection()
        conn.addPrinter(self.queue, filename=str(ppd), device=f"cups-pdf:/{self.instance}",
                        info="Kiosk A4 (simulated)", location="simulator")
        conn.setPrinterErrorPolicy(self.queue, "abort-job")
        conn.enablePrinter(self.queue)
        conn.acceptJobs(self.queue)

    def _write_pdf_conf(self, *, fail: bool) -> None:
        # A file in the way of the output directory makes cups-pdf fail the job.
        out = self.run_dir / "cupsd.conf" / "out" if fail else self.out_dir
        gs = shutil.which("gs") or "/usr/bin/gs"
        self.pdf_conf.write_text(_CUPS_PDF_CONF.format(out=out, root=self.run_dir, gs=gs))

    # -- faults --------------------------------------------------------------
    def set_fault(self, fault: str | None) -> None:
        """Switch to ``fault`` (one of ``FAULTS``) or back to normal with ``None``."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        if self.fault == "cupsd_down" and fault != "cupsd_down":
            self._start_cupsd()
        if self.fault == "queue_stopped" and fault != "queue_stopped":
            self.connection().enablePrinter(self.queue)
        self._write_pdf_conf(fail=fault == "job_fails")
        if fault == "queue_stopped":
            self.connection().disablePrinter(self.queue, reason="Paper jam (simulated)")
        elif fault == "cupsd_down":
            self._stop_cupsd()
        self.fault = fault

    # -- inspection ----------------------------------------------------------
    def printed(self) -> list[Path]:
        """The PDFs cups-pdf has written so far, oldest first."""
        return sorted(self.out_dir.glob("*.pdf"), key=os.path.getmtime)

    def error_log(self) -> str:
        path = self.run_dir / "log" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def config_section(self) -> dict:
        """The ``[devices.NAME]`` keys that point the ``cups`` driver at this queue."""
        return {"driver": "cups", "queue": self.queue, "server": str(self.socket_path)}
