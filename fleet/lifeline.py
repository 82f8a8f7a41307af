"""No orphans: a child process that ends when the process that started it ends, even by SIGKILL.

``die_with_parent(pid)`` asks the Linux kernel for SIGTERM when the parent goes
(``prctl(PR_SET_PDEATHSIG)``), so the child still shuts down cleanly. The signal comes
when the *thread* that started the child ends, so start children from a thread that
lives as long as the parent wants them (the main thread). ``command(argv)`` wraps any
program in it for ``subprocess`` (``python -m fleet.lifeline PID PROGRAM ARGS...`` sets the
signal, then becomes PROGRAM: the setting survives ``exec``); ``end(proc)`` ends a child.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """SIGTERM this process when ``parent`` ends; exits at once if it has ended already."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent went before the signal was asked for
        sys.exit(1)


def command(argv: list[str]) -> list[str]:
    """``argv`` as a child of this process that ends when this process ends."""
    return [sys.executable, "-m", "fleet.lifeline", str(os.getpid()), *argv]


def end(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """End a child: SIGTERM, and SIGKILL if it is still there after ``timeout``."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not argv[0].isdigit():
        sys.exit("usage: python -m fleet.lifeline PARENT_PID PROGRAM [ARGS...]")
    die_with_parent(int(argv[0]))
    os.execvp(argv[1], argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
