"""The application core the screens call: config, devices, catalog and modules, in one place.

Nothing here knows there is a screen. Device changes arrive on device threads; the
screen layer moves them to its own thread before touching any widget.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from functools import cached_property

from drivers.base import Status, StatusChange
from kiosk.catalog.loader import BUNDLED as BUNDLED_CATALOG, CatalogStore
from kiosk.catalog.modules import Module, missing_devices
from kiosk.catalog.search import CatalogSearch
from kiosk.config import Config
from kiosk.content import BUNDLED as BUNDLED_CONTENT, Content, ContentError, load_content
from kiosk.devices import Devices
from kiosk.fleet_counters import Counters
from kiosk.opening_hours import OpeningHours, parse as parse_opening_hours
from kiosk.queue import Queue
from kiosk.session import Session, SessionEvent
from kiosk.speech import Speaker
from kiosk.staff import StaffBadges

log = logging.getLogger(__name__)
SERVING = (Status.ONLINE, Status.BUSY)
DEVICE_NICENESS = 10  # the devices' threads yield the processor to the screen
LIVE_TERMINAL_KEYS = ("station", "language", "guide_url", "opening_hours", "verify_url", "progress_url")  # [terminal], changed live


class Terminal:
    """One terminal's services. ``start`` begins device monitoring; ``close`` ends it."""

    def __init__(self, config: Config):
        self.config = config
        self.devices = Devices(config)
        self.catalog_store = CatalogStore(config.terminal.catalog or BUNDLED_CATALOG)
        self._search = CatalogSearch(self.catalog_store.catalog)
        self._search_of = self.catalog_store.catalog
        self.content = _content(config.terminal.content, {i.code.basic for i in self.catalog.items})
        self.session = Session(config.session.idle_timeout_s, config.session.countdown_s)
        self.counters = Counters()  # what the terminal did, for the fleet's metrics
        self._starting = False  # started, and not every device has had its first probe yet
        self._config_listeners: list[Callable[[Config], None]] = []
        self.session.subscribe(self._count_visit)
        self.fleet = _fleet_link(self) if config.fleet.broker else None  # in the fleet: its agent (paho)
        self._cases = None
        self._cases_lock = threading.Lock()

    @cached_property
    def speaker(self) -> Speaker:
        """The voice read-out, made when first used (finding the voices runs espeak-ng)."""
        return Speaker()

    @cached_property
    def queue(self) -> Queue:
        """The station's queue of tickets (opened when first used)."""
        return Queue(self.config.queue, counters=self.counters)

    @cached_property
    def opening_hours(self) -> OpeningHours:
        return parse_opening_hours(self.config.terminal.opening_hours)  # validated with the config

    @property
    def cases(self):
        """Applications end to end (``kiosk.cases.Cases``): the store, its key and the outbox's worker
        are opened when first used; ``kiosk.sealed.KeyFileError`` if the key file is missing or open to others."""
        with self._cases_lock:
            if self._cases is None:
                from kiosk.cases import Cases
                self._cases = Cases.open(self.config, self.counters, on_stuck=self._outbox_stuck)
                self._cases.start()
            return self._cases

    def _outbox_stuck(self, pending: int, age_s: float) -> None:
        self.event("outbox.stuck", "warning", "", f"{pending} messages wait for the platform, the oldest {age_s / 3600:.1f} h")

    def on_staff_badge(self, callback: Callable[[str | None], None]) -> None:
        """``callback(uid)`` when an agent's staff badge is put on a PC/SC reader, ``None`` when taken off."""
        StaffBadges(self.config.queue.staff_cards).watch(self.devices, callback)

    def start(self) -> None:
        """Start the devices and the speaker on a thread of their own: the caller never waits."""
        self._starting = True
        threading.Thread(target=self._start, name="terminal-start", daemon=True).start()

    def _start(self) -> None:
        # Linux sets niceness per thread; the threads the devices make here inherit it
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), DEVICE_NICENESS)
        try:
            if self.fleet is not None:
                self.fleet.start()
            self.devices.start()
            self.devices.probed.wait()
        finally:
            self._starting = False
        self.speaker  # noqa: B018  (found now, not when a citizen first asks for it)
        if self.config.store.db_path.exists():  # resume delivering what is queued
            try:
                self.cases  # noqa: B018
            except Exception:  # noqa: BLE001 — a bad key file must not stop the rest of the terminal
                log.exception("store: cannot open %s; applications are out of service", self.config.store.dir)

    def close(self) -> None:
        if self.fleet is not None:
            self.fleet.close()
        if "speaker" in self.__dict__:
            self.speaker.stop()
        if "queue" in self.__dict__:
            self.queue.close()
        with self._cases_lock:
            if self._cases is not None:
                self._cases.close()
        self.devices.close()

    def on_device_change(self, callback: Callable[[StatusChange], None]) -> None:
        self.devices.subscribe(callback)

    # -- the fleet ---------------------------------------------------------------
    @property
    def held_for_maintenance(self) -> bool:
        """The fleet put the terminal into maintenance: the app shows the maintenance page."""
        return self.fleet is not None and self.fleet.maintenance

    def event(self, type: str, severity: str, device: str = "", message: str = "") -> None:
        """Tell the fleet something happened (``outbox.stuck``, ``warning``, ...); only logged outside a fleet."""
        log.log(logging.INFO if severity == "info" else logging.WARNING, "event %s (%s) %s %s",
                type, severity, device, message)
        if self.fleet is not None:
            self.fleet.event(type, severity, device, message)

    def _count_visit(self, event: SessionEvent) -> None:
        if event.kind == "started":
            self.counters.count("sessions")

    # -- config ------------------------------------------------------------------
    def on_config_change(self, callback: Callable[[Config], None]) -> None:
        """``callback(config)`` after ``apply_config`` (on the caller's thread)."""
        self._config_listeners.append(callback)

    def apply_config(self, config: Config) -> list[str]:
        """Take up a new config: the visit times and the [terminal] texts change now; the names of
        the sections and keys whose change waits for the app's restart."""
        old = self.config
        live = {key: getattr(config.terminal, key) for key in LIVE_TERMINAL_KEYS}
        self.config = dataclasses.replace(old, terminal=dataclasses.replace(old.terminal, **live), session=config.session)
        self.session.idle_timeout, self.session.warning = config.session.idle_timeout_s, config.session.countdown_s
        self.__dict__.pop("opening_hours", None)
        waiting = [f"terminal.{f.name}" for f in dataclasses.fields(old.terminal)
                   if getattr(config.terminal, f.name) != getattr(self.config.terminal, f.name)]
        waiting += [f.name for f in dataclasses.fields(old) if f.name not in ("path", "terminal", "session")
                    and getattr(config, f.name) != getattr(old, f.name)]
        for callback in list(self._config_listeners):
            callback(self.config)
        return waiting

    # -- catalog -----------------------------------------------------------------
    def reload_data(self) -> None:
        """Take up a catalog file an operator replaced (a bad one is logged and ignored)."""
        self.catalog_store.reload_if_changed()

    @property
    def catalog(self):
        return self.catalog_store.catalog

    def search(self, query: str, limit: int | None = None):
        """Service items matching ``query`` (characters, pinyin or initials), best first."""
        if self._search_of is not self.catalog:  # the operator replaced the catalog
            self._search, self._search_of = CatalogSearch(self.catalog), self.catalog
        return self._search.search(query, limit)

    # -- devices -----------------------------------------------------------------
    def online_kinds(self) -> set[str]:
        return {d.kind for d in self.devices if d.state.status in SERVING}

    def device_of_kind(self, kind: str):
        """The first configured device of ``kind`` that is serving, else None."""
        return next((d for d in self.devices.of_kind(kind) if d.state.status in SERVING), None)

    def ready_printer(self, kind: str):
        """The first printer of ``kind`` that can print now (serving, paper in, cover shut), else None."""
        printer = self.device_of_kind(kind)
        if printer is None or printer.state.detail.get("paper") == "out" or printer.state.detail.get("cover") == "open":
            return None
        return printer

    def missing_for(self, module: Module) -> tuple[str, ...]:
        """Device kinds ``module`` needs that are not serving now."""
        return missing_devices(module, self.online_kinds())

    def serviceable(self) -> bool:
        """False when no configured device serves: the terminal shows its out-of-service page.

        Until every device has answered its first probe after ``start`` nothing is known to be down.
        """
        return not self.config.devices or self._starting or bool(self.online_kinds())


def _content(path: str, known_codes: set[str]) -> Content:
    """The configured articles; the bundled ones (and a log line) when that file is bad."""
    try:
        return load_content(path or BUNDLED_CONTENT, known_codes)
    except ContentError as exc:
        log.error("content: %s — using the bundled articles", exc)
        return load_content(BUNDLED_CONTENT)


def _fleet_link(terminal: Terminal):
    """The terminal's link to the fleet; None (and a log line) when its files are missing or bad:
    the terminal serves villagers all the same."""
    from kiosk.fleet_link import FleetLink  # paho and the agent only for a terminal in a fleet
    try:
        return FleetLink(terminal)
    except (OSError, ValueError) as exc:  # credentials, CA or buffer directory
        log.error("fleet: cannot join the fleet at %s: %s", terminal.config.fleet.broker, exc)
        return None
