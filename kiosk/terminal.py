"""The application core the screens call: config, devices, catalog and modules, in one place.

Nothing here knows there is a screen. Device changes arrive on device threads; the
screen layer moves them to its own thread before touching any widget.
"""
from __future__ import annotations

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
from kiosk.session import Session
from kiosk.speech import Speaker

log = logging.getLogger(__name__)
SERVING = (Status.ONLINE, Status.BUSY)
DEVICE_NICENESS = 10  # the devices' threads yield the processor to the screen


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
        self._starting = False  # started, and not every device has had its first probe yet

    @cached_property
    def speaker(self) -> Speaker:
        """The voice read-out, made when first used (finding the voices runs espeak-ng)."""
        return Speaker()

    def start(self) -> None:
        """Start the devices and the speaker on a thread of their own: the caller never waits."""
        self._starting = True
        threading.Thread(target=self._start, name="terminal-start", daemon=True).start()

    def _start(self) -> None:
        # Linux sets niceness per thread; the threads the devices make here inherit it
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), DEVICE_NICENESS)
        try:
            self.devices.start()
            self.devices.probed.wait()
        finally:
            self._starting = False
        self.speaker  # noqa: B018  (found now, not when a citizen first asks for it)

    def close(self) -> None:
        if "speaker" in self.__dict__:
            self.speaker.stop()
        self.devices.close()

    def on_device_change(self, callback: Callable[[StatusChange], None]) -> None:
        self.devices.subscribe(callback)

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
