"""``fleet.lifeline``: a child started through it ends when its parent is killed with SIGKILL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from tests._fleet_manager import eventually
from tests._mosquitto import ROOT
from tests._processes import alive

# A parent that starts `sleep` through the lifeline, prints the child's pid, then waits for ever.
PARENT = textwrap.dedent("""
    import subprocess, sys, time
    from fleet import lifeline
    child = subprocess.Popen(lifeline.command(["sleep", "600"]))
    print(child.pid, flush=True)
    time.sleep(600)
""")


def test_the_child_ends_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        eventually(lambda: os.path.realpath(f"/proc/{child}/exe").endswith("sleep"))  # it has become `sleep`
        assert alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        eventually(lambda: not alive(child))
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


def test_a_child_whose_parent_is_gone_already_does_not_start():
    done = subprocess.run([sys.executable, "-m", "fleet.lifeline", "1", "sleep", "600"], cwd=ROOT, timeout=30)
    assert done.returncode == 1

