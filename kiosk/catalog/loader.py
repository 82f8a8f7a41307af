"""Loading the catalog file an operator may replace; a bad file never replaces a good one."""
from __future__ import annotations

import json
import logging
import os
import tomllib
from pathlib import Path

from kiosk.catalog import errors as E
from kiosk.catalog.items import Catalog
from kiosk.catalog.parse import parse_catalog

log = logging.getLogger(__name__)

BUNDLED = Path(__file__).resolve().parent / "data" / "items.toml"


def load_catalog(path: Path | str) -> Catalog:
    """Read and validate one catalog file (``.toml`` or ``.json``); raise a ``CatalogError``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise E.CatalogFileError(E.MSG_UNREADABLE, path=str(path), reason=exc.strerror or str(exc)) from exc
    try:
        text = raw.decode("utf-8")
        doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError, RecursionError) as exc:
        fmt = "JSON" if path.suffix == ".json" else "TOML"
        raise E.CatalogFileError(E.MSG_SYNTAX, path=str(path), format=fmt, reason=str(exc)) from exc
    return parse_catalog(doc, str(path))


class CatalogStore:
    """The catalog in use: the last good load of ``path``.

    If the configured file is bad from the start, the bundled catalog serves until it
    is fixed. ``reload_if_changed`` lets an operator drop in a new file at run time.
    """

    def __init__(self, path: Path | str = BUNDLED):
        self.path = Path(path)
        self.last_error: E.CatalogError | None = None
        self._stamp: tuple[int, int] | None = None
        self._catalog: Catalog | None = None
        if self.reload() is not None and self._catalog is None and self.path != BUNDLED:
            log.warning("catalog: falling back to the bundled catalog %s", BUNDLED)
            self._catalog = load_catalog(BUNDLED)

    @property
    def catalog(self) -> Catalog:
        assert self._catalog is not None  # __init__ loads a catalog or raises
        return self._catalog

    def reload(self) -> E.CatalogError | None:
        """Load ``path`` again; on failure keep the last good catalog, log and return why."""
        self._stamp = self._file_stamp()
        try:
            catalog = load_catalog(self.path)
        except E.CatalogError as exc:
            self.last_error = exc
            kept = f"keeping {self._catalog.source} ({len(self._catalog)} items)" if self._catalog else "none loaded yet"
            log.error("catalog: %s — %s", exc.message("en"), kept)
            if self._catalog is None and self.path == BUNDLED:
                raise
            return exc
        self._catalog, self.last_error = catalog, None
        log.info("catalog: loaded %d items, version %s, from %s", len(catalog), catalog.version, self.path)
        return None

    def reload_if_changed(self) -> E.CatalogError | None:
        """Reload when the file's modification time or size changed since the last try."""
        if self._file_stamp() == self._stamp:
            return self.last_error
        return self.reload()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size
