"""Pinyin readings come from a child process once, then from the cache; the terminal never loads pypinyin."""
from __future__ import annotations

import subprocess
import sys

import pytest

from kiosk.catalog import readings as mod


def test_readings_are_computed_and_cached(tmp_path):
    cache = tmp_path / "readings.json"
    got = mod.readings(["无房产证明", "65岁老人"], cache)
    assert got == {"无房产证明": ("wu", "fang", "chan", "zheng", "ming"), "65岁老人": ("65", "sui", "lao", "ren")}
    assert "无房产证明" in cache.read_text(encoding="utf-8")


def test_a_cached_reading_needs_no_child(tmp_path, monkeypatch):
    cache = tmp_path / "readings.json"
    mod.readings(["低保"], cache)
    monkeypatch.setattr(mod, "_compute_in_child", lambda texts: pytest.fail(f"recomputed {texts}"))
    assert mod.readings(["低保"], cache) == {"低保": ("di", "bao")}


@pytest.mark.parametrize("damage", ["{not json", '{"低保": "di bao"}', "[1, 2]", '{"低保": [1]}'])
def test_a_damaged_cache_is_rebuilt(tmp_path, damage):
    cache = tmp_path / "readings.json"
    cache.write_text(damage, encoding="utf-8")
    assert mod.readings(["低保"], cache) == {"低保": ("di", "bao")}


def test_the_terminal_never_imports_pypinyin():
    code = ("import sys; from kiosk import config; from kiosk.terminal import Terminal;"
            "t = Terminal(config.load(config.DEMO_CONFIG)); hits = t.search('wfc');"
            "assert hits[0].name == '无房产证明', hits[:1];"
            "assert 'pypinyin' not in sys.modules; t.close()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
