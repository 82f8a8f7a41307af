"""Every simulator of a terminal at once, under one run directory: the demo's station.

``SimulatedStation(run_dir).start()`` brings up the SAM reader on a pty (behind a stable
link), a private pcscd with a staff badge on the vpcd reader, the ESC/POS printer on a
loopback port, a private CUPS with a cups-pdf queue, SANE's test scanner and a document
camera source; ``config_text()`` is the kiosk config that points at them.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from drivers.sim.base import Simulator
from drivers.sim.camera_source import CameraSourceSim
from drivers.sim.cupsd import CupsSim
from drivers.sim.escpos_printer import SimulatedEscposPrinter
from drivers.sim.pcscd import PcscDaemon
from drivers.sim.samv_reader import DEMO_IDENTITIES, SimulatedSamvReader
from drivers.sim.sane_test import SaneTestSim
from drivers.sim.vpcd_card import DEMO_BADGE_UID, VirtualCard

DEMO_PRINTER_PORT = 19100
DEMO_UPSTREAM_PORT = 19180  # the platform sandbox `kiosk demo` starts (kiosk/upstream/sandbox)
DEMO_BROKER_PORT = 18883  # the fleet broker `kiosk demo` starts (fleet/demo.py)
DEMO_SECTIONS = {
    "terminal": {"id": "demo-001", "station": "湖光镇东岭村便民服务站", "language": "zh_CN",
                 "opening_hours": "星期一至星期五 8:30—12:00，14:00—17:30"},
    "maintenance": {"pin": "2468", "allow_exit": True},  # a development terminal
}


class SimulatedStation(Simulator):
    """All simulators of one terminal; a context manager that stops what it started."""

    def __init__(self, run_dir: Path | str, printer_port: int = DEMO_PRINTER_PORT):
        self.run_dir = Path(run_dir)
        self.samv = SimulatedSamvReader(link=self.run_dir / "samv-tty", card=DEMO_IDENTITIES[0])
        self.pcscd = PcscDaemon(self.run_dir / "pcscd")
        self.badge = VirtualCard(self.pcscd, "badge")
        self.printer = SimulatedEscposPrinter(port=printer_port, run_dir=self.run_dir / "printer")
        self.cups = CupsSim(self.run_dir / "cups")
        self.sane = SaneTestSim(self.run_dir / "sane")
        self.camera = CameraSourceSim(self.run_dir / "camera")
        self._stack = contextlib.ExitStack()

    def start(self) -> SimulatedStation:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o755)  # cupsd runs its filters as user lp
        with self._stack as stack:
            for sim in (self.samv, self.pcscd, self.badge, self.printer, self.cups, self.sane, self.camera):
                sim.start()
                stack.callback(sim.stop)
            self._stack = stack.pop_all()
        return self

    def stop(self) -> None:
        self._stack.close()

    def sections(self) -> dict[str, dict]:
        """``[devices.NAME]`` tables naming each simulator, by device name."""
        return {
            "idcard": self.samv.config_section(),
            "staffcard": self.badge.config_section(),
            "receipt": self.printer.config_section(),
            "a4": self.cups.config_section(),
            "scanner": self.sane.config_section(),
            "camera": self.camera.config_section(),
        }

    def fleet_section(self) -> dict:
        """``[fleet]``: the demo's broker; the files it issues this terminal go under ``fleet/kiosk``.
        A reboot job must not reboot the machine the demo runs on."""
        kiosk = self.run_dir / "fleet" / "kiosk"
        name = DEMO_SECTIONS["terminal"]["id"]
        return {"broker": f"mqtts://localhost:{DEMO_BROKER_PORT}", "password_file": str(kiosk / f"{name}.password"),
                "ca_file": str(kiosk / "ca.crt"), "cert_file": str(kiosk / f"{name}.crt"),
                "key_file": str(kiosk / f"{name}.key"), "groups": ["huguang", "tier-standard"],
                "buffer_dir": str(kiosk / "buffer"), "reboot_command": ["true"]}

    def config_text(self) -> str:
        """The kiosk config (TOML) for this station."""
        lines = ["# The demo terminal: every device is a simulator under " + str(self.run_dir)]
        run = self.run_dir
        tables = {
            **DEMO_SECTIONS,
            "upstream": {"url": f"http://127.0.0.1:{DEMO_UPSTREAM_PORT}", "token_file": str(run / "upstream.token")},
            "store": {"dir": str(run / "store"), "key_file": str(run / "store.key")},
            "queue": {"db": str(run / "queue.sqlite"), "staff_cards": [DEMO_BADGE_UID]},
            "fleet": self.fleet_section(),
            **{f"devices.{name}": s for name, s in self.sections().items()},
        }
        for table, section in tables.items():
            lines += ["", f"[{table}]"]
            lines += [f"{key} = {_toml(value)}" for key, value in section.items()]
        return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
