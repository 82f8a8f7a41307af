"""A private pcscd with one vsmartcard ``vpcd`` virtual reader, for the demo and the tests.

pcsc-lite 1.9.9's pcscd always uses /run/pcscd/pcscd.comm unless it is socket-activated,
so this starts it the way systemd would: it binds its own unix socket in ``run_dir`` and
hands it over as fd 3 with ``LISTEN_FDS=1``/``LISTEN_PID``. Clients reach it by setting
``PCSCLITE_CSOCK_NAME`` to ``socket_path`` (libpcsclite reads it). Several instances
coexist; each still writes, and on exit removes, /run/pcscd/pcscd.pid (pcscd hard-codes
it), which no client reads. The vpcd driver listens for the virtual card on TCP
``vpcd_port`` (slot 00) and ``vpcd_port + 1`` (slot 01), on all interfaces (vpcd binds
INADDR_ANY; it has no option for loopback only).
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from drivers.sim.base import Simulator
from fleet import lifeline  # the simulators end with the process that started them, even on SIGKILL

log = logging.getLogger(__name__)

VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
READER_NAME = "Kiosk Virtual PCD"
READY_LINE = b"daemon ready"


def free_port_pair() -> int:
    """A TCP port p such that p and p + 1 are both free now (vpcd's two slots)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("0.0.0.0", 0))
            port = probe.getsockname()[1]
        if port < 65535:
            try:
                with socket.socket() as other:
                    other.bind(("0.0.0.0", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no free pair of TCP ports for vpcd")


class PcscDaemon(Simulator):
    """pcscd on a private socket in ``run_dir`` with one vpcd reader (two slots)."""

    def __init__(self, run_dir: Path | str, vpcd_port: int | None = None, reader_name: str = READER_NAME):
        self.run_dir = Path(run_dir)
        self.vpcd_port = vpcd_port or free_port_pair()
        self.reader_name = reader_name
        self.socket_path = str(self.run_dir / "pcscd.comm")
        self.config_path = self.run_dir / "reader.conf"
        self.log_path = self.run_dir / "pcscd.log"
        self._process: subprocess.Popen | None = None

    @property
    def readers(self) -> list[str]:
        """The reader names pcscd shows: slot 00 (the card's) and slot 01."""
        return [f"{self.reader_name} 00 00", f"{self.reader_name} 00 01"]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start pcscd and wait until it is ready; RuntimeError with its log if it is not."""
        if self.running:
            return
        pcscd = shutil.which("pcscd") or "/usr/sbin/pcscd"  # bash: dash cannot move fds above 9
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            f'FRIENDLYNAME "{self.reader_name}"\nDEVICENAME /dev/null:0x{self.vpcd_port:X}\nLIBPATH {VPCD_DRIVER}\n')
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket_path)
        listener.listen(64)
        os.chmod(self.socket_path, 0o666)
        fd = listener.fileno()
        move = "" if fd == 3 else f"3<&{fd} {fd}<&-"
        script = f'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --foreground --info -c "$1" {move}'
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as out:
            self._process = subprocess.Popen(
                lifeline.command(["bash", "-c", script, pcscd, str(self.config_path)]),
                pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        listener.close()  # pcscd holds it now: once pcscd is gone, clients get "refused"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.log_path.read_bytes()[offset:]:
                log.info("pcscd %d ready on %s, vpcd port %d", self._process.pid, self.socket_path, self.vpcd_port)
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log_path.read_bytes()[offset:][-2000:].decode(errors="replace")
        self.stop()
        raise RuntimeError(f"pcscd did not start:\n{tail}")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop pcscd (SIGTERM, then SIGKILL) and remove its socket."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def restart(self) -> None:
        self.stop()
        self.start()
