"""Pinyin readings of catalog texts, computed once and cached on disk.

pypinyin's phrase dictionaries take about 55 MB of memory and 0.3 s to load; the
terminal needs them only when the catalog changes. Readings are therefore computed in
a short-lived child process (``python -m kiosk.catalog.readings``, JSON in and out) and
kept in the cache; the terminal itself never imports pypinyin.
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from drivers.cache import cache_dir

log = logging.getLogger(__name__)
CACHE_NAME = "readings.json"


def readings(texts: Iterable[str], cache: Path | None = None) -> dict[str, tuple[str, ...]]:
    """The pinyin syllables (no tones) of each text, ASCII words kept as they are."""
    path = cache or cache_dir("catalog") / CACHE_NAME
    known = _load(path)
    wanted = sorted(set(texts))
    missing = [t for t in wanted if t not in known]
    if missing:
        known.update(_compute_in_child(missing))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    return {t: tuple(known[t]) for t in wanted}


def _load(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in data.values()):
        log.warning("pinyin cache %s is damaged: rebuilding it", path)
        return {}
    return data


def _compute_in_child(texts: list[str]) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-m", "kiosk.catalog.readings"], input=json.dumps(texts),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def compute(texts: list[str]) -> dict[str, list[str]]:
    """The readings themselves (this imports pypinyin)."""
    from pypinyin import Style, lazy_pinyin
    out = {}
    for text in texts:
        syllables = []
        for chunk in lazy_pinyin(text, style=Style.NORMAL, errors=lambda s: [s]):
            word = "".join(ch for ch in chunk.lower() if ch.isascii() and ch.isalnum())
            if word:
                syllables.append(word)
        out[text] = syllables
    return out


if __name__ == "__main__":
    json.dump(compute(json.load(sys.stdin)), sys.stdout, ensure_ascii=False)
