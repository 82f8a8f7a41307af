"""The terminal in the fleet: its ``FleetAgent``, and the job hooks that act on this terminal.

``Terminal`` makes one when ``[fleet] broker`` is set (paho is imported only then). The
screen layer attaches a ``Screen`` (shows the maintenance page, captures the window,
quits the app) and reports which page shows (``page``); the fleet state follows:
``maintenance`` while a maintenance job holds the terminal or a technician's screen is
open, ``out_of_service`` while the out-of-service page shows, else ``online``.

What it reports: device faults, paper and cover as events (``kiosk.fleet_events``), the
app's start, and a start after a crash (a marker file lives in ``buffer_dir`` while the
app runs; a clean close removes it).
"""
from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import subprocess
import threading
import time
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from drivers.base import StatusChange
from kiosk import config as config_mod, config_file
from kiosk.fleet_agent import FleetAgent
from kiosk.fleet_events import DeviceEvents
from kiosk.fleet_jobs import JobHooks
from kiosk.fleet_options import FleetOptions
from kiosk.logbuffer import install as install_log_buffer
from kiosk.session import SessionEvent

if TYPE_CHECKING:
    from kiosk.terminal import Terminal

log = logging.getLogger(__name__)
RESTART_EXIT_CODE = 75  # EX_TEMPFAIL; the unit (deploy/kiosk.service, Restart=always) starts the app again
LOG_LINES = 2000  # kept in memory for collect_logs
RUNNING = "app.running"  # the marker file: present at start = the last run did not end cleanly
HOLD = "maintenance.hold"  # present = a maintenance job holds the terminal, across restarts


def package_version() -> str:
    try:
        return importlib.metadata.version("village-kiosk")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


class Screen(Protocol):
    """What the app does for the fleet, called from the agent's thread (``quit`` also from the
    UI thread, when the visit a restart waited for ends)."""

    def show_maintenance(self, on: bool) -> None: ...
    def capture_png(self) -> bytes: ...
    def quit(self, code: int) -> None: ...


class FleetLink:
    def __init__(self, terminal: Terminal, options: FleetOptions | None = None):
        self.terminal = terminal
        self.options = options or terminal.config.fleet
        self.dir = Path(self.options.buffer_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.screen: Screen | None = None
        self.logs = install_log_buffer(LOG_LINES)
        self._page = "online"
        self._quitting = threading.Event()
        self._running = False
        self._life = threading.Lock()  # start (on the terminal's start thread) and close (on the UI's)
        self._device_events = DeviceEvents()
        hooks = JobHooks(reboot=self._reboot, restart_app=self._restart_app, maintenance=self.set_maintenance,
                         capture_screen=self._capture, current_config=self._current_config,
                         apply_config=self._apply_config, log_lines=self.logs.lines)
        self.agent = FleetAgent(terminal.config.terminal.id, self.options, station=terminal.config.terminal.station,
                                version=package_version(), devices=terminal.devices, counters=terminal.counters,
                                hooks=hooks)
        terminal.devices.subscribe(self._device_changed)
        self._update_state()

    # -- life ------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background; report the start, and the crash before it if there was one."""
        marker = self.dir / RUNNING
        with self._life:
            if self._running:
                return
            crashed = marker.read_text(encoding="utf-8", errors="replace") if marker.exists() else None
            marker.write_text(f"{_kernel_boot()} {time.time():.0f}\n", encoding="utf-8")  # kernel boot, since
            self.agent.start()
            self._running = True
        self.agent.emit("app.started", "info", "", f"version {self.agent.version}")
        if crashed is not None:
            how = "the app ended unexpectedly" if crashed.split(" ")[0] == _kernel_boot() \
                else "the computer restarted without shutting down"
            self.agent.emit("app.crash_restart", "warning", "", f"started again after {how}")

    def close(self) -> None:
        """A clean end: say ``offline`` and forget the running marker."""
        with self._life:
            if not self._running:
                return
            self._running = False
            self.agent.stop()
            (self.dir / RUNNING).unlink(missing_ok=True)

    # -- the fleet state -------------------------------------------------------------
    @property
    def maintenance(self) -> bool:
        """A maintenance job holds the terminal (the app shows the maintenance page when no visit runs)."""
        return (self.dir / HOLD).exists()

    def page(self, state: str) -> None:
        """The screen layer: what the screen shows now, ``online``, ``maintenance`` or ``out_of_service``."""
        self._page = state
        self._update_state()

    def set_maintenance(self, on: bool) -> None:
        """The ``maintenance`` job's hook: hold the terminal (or release it) and show it."""
        hold = self.dir / HOLD
        if on:
            hold.touch()
        else:
            hold.unlink(missing_ok=True)
        log.warning("fleet: maintenance %s", "on" if on else "off")
        self._update_state()
        if self.screen is not None:
            self.screen.show_maintenance(on)

    def _update_state(self) -> None:
        self.agent.set_state("maintenance" if self.maintenance else self._page)

    # -- events ------------------------------------------------------------------------
    def event(self, type: str, severity: str, device: str = "", message: str = "") -> None:
        self.agent.emit(type, severity, device, message)

    def _device_changed(self, change: StatusChange) -> None:
        for e in self._device_events.events(change):
            self.agent.emit(e.type, e.severity, e.device, e.message)

    # -- jobs --------------------------------------------------------------------------
    def _reboot(self) -> None:
        command = self.options.reboot_command
        if shutil.which(command[0]) is None:
            raise RuntimeError(f"the reboot command {command[0]!r} is not there")
        self.agent.then(lambda: self._run_reboot(command))  # after the job's status has gone out

    def _run_reboot(self, command: tuple[str, ...]) -> None:
        log.warning("fleet: rebooting: %s", " ".join(command))
        (self.dir / RUNNING).unlink(missing_ok=True)  # going down on purpose
        try:
            subprocess.run(command, check=True, timeout=60, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            log.error("fleet: the reboot failed: %s", exc)
            (self.dir / RUNNING).touch()
            self.agent.emit("system.reboot_failed", "critical", "", f"{' '.join(command)}: {exc}")

    def _restart_app(self) -> None:
        self.agent.then(self._quit_when_idle)

    def _quit_when_idle(self) -> None:
        """Quit now, or when the visit in progress ends."""
        session = self.terminal.session

        def ended(event: SessionEvent) -> None:
            if event.kind == "ended":
                self._quit()

        unsubscribe = session.subscribe(ended)
        if not session.active:
            unsubscribe()
            self._quit()
        else:
            log.warning("fleet: the app restarts when the visit in progress ends")

    def _quit(self) -> None:
        if self._quitting.is_set():
            return
        self._quitting.set()
        log.warning("fleet: restarting the app")
        if self.screen is not None:
            self.screen.quit(RESTART_EXIT_CODE)
        else:  # no screen to end: close and leave the process
            threading.Thread(target=self._exit, name="fleet-exit").start()

    def _exit(self) -> None:
        self.terminal.close()
        logging.shutdown()
        os._exit(RESTART_EXIT_CODE)

    def _capture(self) -> bytes:
        if self.screen is None:
            raise RuntimeError("this terminal runs without a screen")
        return self.screen.capture_png()

    def _current_config(self) -> dict[str, Any]:
        return config_file.read(self.terminal.config.path)

    def _apply_config(self, raw: dict[str, Any], config: config_mod.Config) -> dict[str, Any]:
        """Write ``raw`` to the config file and take up what can change live; what waits for restart_app."""
        path = self.terminal.config.path
        if config_file.read(path) != raw:  # a rollback after a failed write finds the file as it was
            text = config_file.dumps(raw)
            if tomllib.loads(text) != raw:
                raise ValueError("the config does not survive being written as TOML")
            config_file.replace(path, text)
        waiting = self.terminal.apply_config(config_mod.parse(raw, path))
        self.agent.station = self.terminal.config.terminal.station
        if waiting:
            log.warning("fleet: new config written; %s take effect when the app restarts", ", ".join(waiting))
        return {"restart_needed": waiting}


def _kernel_boot() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "-"
