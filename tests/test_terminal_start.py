"""Starting the terminal's devices without the caller waiting: nothing counts as down before
every device has answered its first probe, and the devices' threads yield to the screen.

The printer is a real TCP listener that accepts and stays silent, so its first probe
waits (for ``timeout_s``) until the test drops the connection.
"""
from __future__ import annotations

import os
import socket
import threading
import time

from kiosk import config
from kiosk.terminal import DEVICE_NICENESS, Terminal


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_nothing_is_down_before_the_first_probe_has_answered(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        cfg = config.parse({"devices": {"receipt": {"driver": "escpos", "host": "127.0.0.1", "port": port,
                                                    "timeout_s": 30, "status_interval_s": 3600}}},
                           tmp_path / "kiosk.toml")
        terminal = Terminal(cfg)
        try:
            assert not terminal.serviceable()  # not started: the printer is simply offline
            terminal.start()
            connection, _ = silent.accept()  # the first probe has connected and waits for status
            assert terminal.serviceable() and not terminal.devices.probed.is_set()
            workers = [t for t in threading.enumerate() if t.name.startswith("dev-receipt")]
            assert workers and all(os.getpriority(os.PRIO_PROCESS, t.native_id) == DEVICE_NICENESS
                                   for t in workers)
            connection.close()  # no answer: the probe ends, the printer is offline
            wait_for(terminal.devices.probed.is_set)
            wait_for(lambda: not terminal.serviceable())
        finally:
            terminal.close()


def test_closing_before_the_start_ends_the_wait_for_probes(tmp_path):
    cfg = config.parse({"devices": {"receipt": {"driver": "escpos", "host": "127.0.0.1", "port": 9}}},
                       tmp_path / "kiosk.toml")
    terminal = Terminal(cfg)
    terminal.close()
    terminal.devices.start()  # after close: starts nothing
    assert terminal.devices.probed.is_set()
    assert all(t.name != "dev-receipt_0" for t in threading.enumerate())
