"""The simulated station and the platform sandbox (what ``kiosk demo`` and the tests start) end
with the process that started them, even when it is killed with SIGKILL: no pcscd, cupsd or
sandbox is left behind holding its ports and sockets."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from tests._fleet_manager import eventually
from tests._mosquitto import ROOT
from tests._processes import alive, descendants

# Starts a station and a sandbox, prints its pid once they are up, then waits to be killed.
HOLDER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from drivers.sim.station import SimulatedStation
    from kiosk.upstream.sandbox.process import SandboxProcess
    run = Path(sys.argv[1])
    station = SimulatedStation(run, printer_port=0).start()
    sandbox = SandboxProcess(run / "upstream.db").start()
    print(os.getpid(), flush=True)
    time.sleep(600)
""")


def test_station_and_sandbox_end_when_their_starter_is_killed():
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-lifeline-", dir="/tmp"))  # cupsd's filters (user lp) must reach it
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run_dir)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    children: list[int] = []
    try:
        assert int(holder.stdout.readline()) == holder.pid
        children = descendants(holder.pid)
        names = {_name(pid) for pid in children}
        assert {"pcscd", "cupsd", "python"} <= names, names  # the sandbox runs in a python of its own
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        eventually(lambda: [pid for pid in children if alive(pid)], until=lambda left: not left)
    finally:
        holder.kill()
        holder.wait()
        for pid in children:  # what a failure left behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        holder.stdout.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip().rstrip("0123456789.")
    except OSError:
        return ""
