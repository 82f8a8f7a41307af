"""Where the terminal keeps files it can rebuild: ``$XDG_CACHE_HOME/village-kiosk``."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(name: str) -> Path:
    """The cache folder ``name`` (created, private to the terminal's user)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "village-kiosk" / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
