"""``kiosk demo``: the terminal on simulated devices.

The simulators run under the run directory (by default where the packaged demo config
points). With a display, the touch-screen app runs in a window while the terminal
takes one-letter commands that switch the simulators (card in/out, paper); without one
(or with ``--console``) a console lists the devices, prints status changes as they
happen, and each key exercises a device or switches a simulator's fault. Around the terminal
runs its fleet (fleet/demo.py): a private broker, the fleet manager with its dashboard, and
simulated terminals; the terminal's agent reports to it.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from drivers.base import DeviceError, StatusChange
from drivers.sim.escpos_printer import Fault
from drivers.sim.station import DEMO_UPSTREAM_PORT, SimulatedStation
from fleet.demo import OPERATOR, DemoFleet  # the demo's fleet around its terminal (broker, manager, sims)
from kiosk import config as config_mod
from kiosk.cli import describe_change, device_table, identity_lines
from kiosk.devices import Devices
from kiosk.upstream.sandbox.process import SandboxProcess
from l10n import N_, translate

COMMANDS = (
    ("l", N_("list the devices")),
    ("r", N_("read the resident ID card")),
    ("c", N_("put the ID card on the reader / take it off")),
    ("b", N_("present the staff badge / take it away")),
    ("p", N_("print a test receipt")),
    ("o", N_("receipt paper: ok → near end → out → ok")),
    ("a", N_("print an A4 test page")),
    ("s", N_("scan a page")),
    ("q", N_("quit")),
)
DEMO_PACE_S = 20.0  # the platform sandbox moves a case one step every 20 s
PAPER_CYCLE = {Fault.NONE: Fault.PAPER_NEAR_END, Fault.PAPER_NEAR_END: Fault.PAPER_OUT}
FLEET_ERRORS = (OSError, RuntimeError, ValueError, subprocess.SubprocessError)


APP_COMMANDS = (
    ("c", N_("put the ID card on the reader / take it off")),
    ("b", N_("present the staff badge / take it away")),
    ("o", N_("receipt paper: ok → near end → out → ok")),
)


def run_demo(run_dir: Path, lang: str, console: bool = False) -> int:
    """Start the station, then the app (or the console) until it is closed or Ctrl-C."""
    signal.signal(signal.SIGTERM, _interrupt)
    say = lambda msgid, **params: print(translate(msgid, lang, **params), flush=True)  # noqa: E731
    say(N_("Starting the simulated devices in {dir} ..."), dir=run_dir)
    try:
        station = SimulatedStation(run_dir).start()
    except (OSError, RuntimeError) as exc:
        say(N_("The simulators could not start: {error}"), error=exc)
        return 1
    platform = SandboxProcess(run_dir / "upstream.db", pace=DEMO_PACE_S, port=DEMO_UPSTREAM_PORT)
    fleet = DemoFleet(run_dir / "fleet")
    try:
        _start_platform(platform, run_dir, say)
        config_file = run_dir / "kiosk.toml"
        config_file.write_text(station.config_text(), encoding="utf-8")
        _provision_store_key(config_mod.load(config_file))
        start_fleet(fleet, config_mod.load(config_file), say)
        if not console and os.environ.get("DISPLAY"):
            return _run_app(station, config_mod.load(config_file), lang)
        if not console:
            say(N_("No display: the touch-screen app needs one (run under X or set DISPLAY). Showing the device console."))
        with Devices(config_mod.load(config_file)) as devices:
            console = _Console(station, devices, lang, say)
            console.list()
            devices.subscribe(console.show_change)
            devices.start()
            say(N_("Config: {path}  (other shells: kiosk --config {path} devices list)"), path=config_file)
            console.help()
            with _console_agent(config_mod.load(config_file), devices):
                console.loop()
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()
        platform.stop()
        station.stop()
    say(N_("Demo stopped."))
    return 0


def _start_platform(platform: SandboxProcess, run_dir: Path, say) -> None:
    """The government platform's sandbox; without it the demo still runs (applications stay queued)."""
    try:
        platform.start()
    except (OSError, RuntimeError) as exc:
        say(N_("The platform sandbox could not start (applications will stay queued): {error}"), error=exc)
        return
    (run_dir / "upstream.token").write_text("demo-token\n", encoding="utf-8")
    say(N_("Platform sandbox: {url} (a case moves one step every {pace} s)"), url=platform.url, pace=round(DEMO_PACE_S))


def start_fleet(fleet: DemoFleet, cfg: config_mod.Config, say) -> None:
    """The fleet around the demo terminal (fleet/demo.py); a part that cannot start is said in a line,
    and the demo goes on without it."""
    try:
        broker = fleet.start_broker(cfg.terminal.id, cfg.fleet)
    except FLEET_ERRORS as exc:
        say(N_("The fleet broker could not start (the terminal stays out of the fleet): {error}"), error=exc)
        return
    say(N_("Fleet broker: {url} (TLS, an account for each terminal)"), url=broker.tls_url)
    try:
        say(N_("Simulated terminals: {count} (fleet-sim)"), count=fleet.start_sims())
    except FLEET_ERRORS as exc:
        say(N_("The simulated terminals could not start: {error}"), error=exc)
    try:
        url = fleet.start_manager(cfg.terminal.id, cfg.terminal.station, cfg.fleet.groups)
    except FLEET_ERRORS as exc:
        say(N_("The fleet manager could not start (no dashboard): {error}"), error=exc)
        return
    say(N_("Fleet dashboard: {url}  (sign in as {name}, password {password})"), url=url, name=OPERATOR,
        password=fleet.password)
    say(N_("The fleet from another shell: {command}"), command=fleet.kioskctl())


@contextlib.contextmanager
def _console_agent(cfg: config_mod.Config, devices: Devices) -> Iterator[None]:
    """Without the app, the terminal's fleet agent still reports the devices (no job hooks: such jobs are refused)."""
    from kiosk.fleet_agent import FleetAgent
    from kiosk.fleet_link import package_version
    try:
        agent = FleetAgent(cfg.terminal.id, cfg.fleet, station=cfg.terminal.station, version=package_version(),
                           devices=devices)
    except (OSError, ValueError):  # no credentials: the broker did not start
        yield
        return
    agent.start()
    try:
        yield
    finally:
        agent.stop()


def _provision_store_key(cfg: config_mod.Config) -> None:
    """The demo terminal's store key, made on the first run as provisioning makes a real one."""
    from kiosk.sealed import provision_key
    if not Path(cfg.store.key_file).exists():
        provision_key(cfg.store.key_file)


def _run_app(station: SimulatedStation, cfg: config_mod.Config, lang: str) -> int:
    """The app in a window; simulator switches on the terminal's standard input."""
    for key, msgid in APP_COMMANDS:
        print(f"  {key}  {translate(msgid, lang)}", flush=True)
    actions = {"c": lambda: _toggle_card(station), "b": lambda: _toggle_badge(station),
               "o": lambda: _cycle_paper(station)}

    def read_commands() -> None:
        for line in sys.stdin:
            action = actions.get(line.strip()[:1].lower())
            if action:
                action()

    threading.Thread(target=read_commands, name="demo-console", daemon=True).start()
    from screens.run import run
    return run(cfg, windowed=True, orientation=cfg.display.orientation)


def _toggle_card(station: SimulatedStation) -> None:
    samv = station.samv
    samv.remove() if samv.card else samv.insert()


def _toggle_badge(station: SimulatedStation) -> None:
    badge = station.badge
    badge.remove() if badge.inserted else badge.insert()


def _cycle_paper(station: SimulatedStation) -> None:
    printer = station.printer
    printer.fault = PAPER_CYCLE.get(printer.fault, Fault.NONE)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


class _Console:
    def __init__(self, station: SimulatedStation, devices: Devices, lang: str, say):
        self.station, self.devices, self.lang, self.say = station, devices, lang, say

    def help(self) -> None:
        for key, msgid in COMMANDS:
            print(f"  {key}  {translate(msgid, self.lang)}")

    def loop(self) -> None:
        actions = {"l": self.list, "r": self.read_id, "c": self.toggle_id_card, "b": self.toggle_badge,
                   "p": self.print_receipt, "o": self.cycle_paper, "a": self.print_a4, "s": self.scan}
        for line in sys.stdin:
            key = line.strip()[:1].lower()
            if key == "q":
                return
            action = actions.get(key)
            if action is None:
                self.help()
                continue
            try:
                action()
            except DeviceError as exc:
                print(f"{exc.message(self.lang)} {exc.hint(self.lang)}", flush=True)
        signal.pause()  # no console (stdin closed): run until Ctrl-C

    def list(self) -> None:
        print(device_table(self.devices.refresh_all(), self.lang), flush=True)

    def show_change(self, change: StatusChange) -> None:
        print("  ▸ " + describe_change(change, self.lang), flush=True)

    def read_id(self) -> None:
        identity = self.devices["idcard"].read_identity(timeout=5).result()
        print("\n".join(identity_lines(identity.as_dict(), self.lang)), flush=True)

    def toggle_id_card(self) -> None:
        _toggle_card(self.station)

    def toggle_badge(self) -> None:
        _toggle_badge(self.station)

    def print_receipt(self) -> None:
        self.devices["receipt"].print_test_page().result()
        self.say(N_("Printed; the simulator wrote it under {dir}"), dir=self.station.run_dir / "printer")

    def cycle_paper(self) -> None:
        _cycle_paper(self.station)

    def print_a4(self) -> None:
        self.devices["a4"].print_test_page().result()
        self.say(N_("Printed; cups-pdf wrote the PDF under {dir}"), dir=self.station.run_dir / "cups")

    def scan(self) -> None:
        out = self.station.run_dir / "scan.png"
        self.devices["scanner"].scan(out).result()
        self.say(N_("Scanned to {path}"), path=out)
