"""The kiosk core the screens call: configured data files, replaced at run time; serving devices."""
from __future__ import annotations

import shutil
import time

from kiosk import config
from kiosk.catalog.loader import BUNDLED
from kiosk.terminal import Terminal


def terminal(tmp_path, **terminal_keys) -> Terminal:
    return Terminal(config.parse({"terminal": terminal_keys}, tmp_path / "kiosk.toml"))


def test_a_replaced_catalog_is_taken_up_and_searched(tmp_path):
    catalog = tmp_path / "items.toml"
    shutil.copy(BUNDLED, catalog)
    t = terminal(tmp_path, catalog=str(catalog))
    assert t.search("wfc")[0].name == "无房产证明"
    time.sleep(0.01)
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("无房产证明", "无房屋产权证明"), encoding="utf-8")
    t.reload_data()
    assert t.search("wfwcq")[0].name == "无房屋产权证明"


def test_a_broken_catalog_keeps_the_last_good_one(tmp_path):
    catalog = tmp_path / "items.toml"
    shutil.copy(BUNDLED, catalog)
    t = terminal(tmp_path, catalog=str(catalog))
    count = len(t.catalog)
    catalog.write_text("[[item]]\nname = 1\n", encoding="utf-8")
    t.reload_data()
    assert len(t.catalog) == count and t.catalog_store.last_error is not None


def test_a_bad_articles_file_falls_back_to_the_bundled_articles(tmp_path):
    articles = tmp_path / "articles.toml"
    articles.write_text('[[article]]\nkind = "nonsense"\n', encoding="utf-8")
    t = terminal(tmp_path, content=str(articles))
    assert t.content.of_kind("notices")


def test_a_terminal_without_serving_devices_cannot_serve(tmp_path):
    cfg = config.parse({"devices": {"receipt": {"driver": "escpos", "connection": "network",
                                                "host": "127.0.0.1", "port": 9}}}, tmp_path / "k.toml")
    t = Terminal(cfg)
    try:
        t.devices.refresh_all()
        assert t.online_kinds() == set() and not t.serviceable()
        assert t.device_of_kind("receipt_printer") is None
    finally:
        t.close()
    assert terminal(tmp_path).serviceable()  # nothing configured: information only
