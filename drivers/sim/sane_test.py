"""A SANE configuration that enables only SANE's own ``test`` backend, for demo and tests.

``SaneTestSim(run_dir)`` writes ``run_dir/sane.d/{dll.conf,test.conf}``; point a
scanner at it with ``SANE_CONFIG_DIR`` (the ``config_dir`` key of ``config_section()``).
Every ``scanimage`` run reads the files afresh, so faults switch at run time. They use
the test backend's own options (``read-status-code``, ``read-delay``):

- ``"jammed"``, ``"no_docs"``, ``"cover_open"``, ``"io_error"``: sane_read() returns
  SANE_STATUS_JAMMED / NO_DOCS / COVER_OPEN / IO_ERROR.
- ``"slow"``: the backend waits 200 ms after every buffer it transfers.
- ``"no_device"``: dll.conf is empty, so ``scanimage -L`` lists no scanner.
"""
from __future__ import annotations

from pathlib import Path

from drivers.sim.base import Simulator

FAULTS = ("jammed", "no_docs", "cover_open", "io_error", "slow", "no_device")
_STATUS = {"jammed": "SANE_STATUS_JAMMED", "no_docs": "SANE_STATUS_NO_DOCS",
           "cover_open": "SANE_STATUS_COVER_OPEN", "io_error": "SANE_STATUS_IO_ERROR"}

_TEST_CONF = """\
number_of_devices 2
mode Color
depth 8
hand-scanner false
three-pass false
three-pass-order RGB
resolution_min 1.0
resolution_max 1200.0
resolution_quant 1.0
resolution 75.0
test-picture "Color pattern"
invert-endianess false
read-limit false
read-limit-size 1
read-delay {delay}
read-delay-duration 200000
read-status-code "{status}"
fuzzy-parameters false
ppl-loss 0
non-blocking false
select-fd false
enable-test-options false
geometry_min 0.0
geometry_max 216.0
geometry_quant 1.0
tl_x 0.0
tl_y 0.0
br_x 210.0
br_y 297.0
"""


class SaneTestSim(Simulator):
    """The test backend's configuration in ``run_dir/sane.d``. Use as a context manager."""

    def __init__(self, run_dir: Path | str, device: str = "test:0"):
        self.config_dir = Path(run_dir) / "sane.d"
        self.device = device
        self.fault: str | None = None

    def start(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self._write()

    def stop(self) -> None:
        """Nothing runs between scans; the files stay for inspection."""

    def set_fault(self, fault: str | None) -> None:
        """Switch to ``fault`` (one of ``FAULTS``) or back to normal with ``None``."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        self.fault = fault
        self._write()

    def _write(self) -> None:
        (self.config_dir / "dll.conf").write_text("" if self.fault == "no_device" else "test\n")
        (self.config_dir / "test.conf").write_text(_TEST_CONF.format(
            delay="true" if self.fault == "slow" else "false",
            status=_STATUS.get(self.fault or "", "Default")))

    def config_section(self) -> dict:
        """The ``[devices.NAME]`` keys that point the ``sane`` driver at the test backend."""
        return {"driver": "sane", "device": self.device, "config_dir": str(self.config_dir)}
