"""`kiosk provision-key` and `kiosk outbox status`, through the command's main."""
from __future__ import annotations

import json
import os

from _cases_fixtures import write_config
from _outbox_driver import application
from kiosk import cli, config as config_mod
from kiosk.cases import Cases


def test_provision_key_makes_an_owner_only_key_once(tmp_path, capsys):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[store]\ndir = "{tmp_path / "store"}"\nkey_file = "{tmp_path / "k" / "store.key"}"\n')
    assert cli.main(["--config", str(config), "--lang", "en", "provision-key"]) == cli.EXIT_OK
    assert os.stat(tmp_path / "k" / "store.key").st_mode & 0o777 == 0o600
    assert "Key made" in capsys.readouterr().out
    assert cli.main(["--config", str(config), "provision-key"]) == cli.EXIT_ERROR  # never replaced
    assert "already there" in capsys.readouterr().err


def test_outbox_status_counts_and_ages(tmp_path, capsys):
    config = write_config(tmp_path, "", str(tmp_path / "token"), "cli-1")  # no platform: all stays pending
    assert cli.main(["--config", str(config), "outbox", "status", "--json"]) == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out) == {"pending": 0, "delivering": 0, "delivered": 0, "failed": 0,
                                                   "oldest_pending_age_s": None}
    cases = Cases.open(config_mod.load(config))
    cases.submit(application(1, tmp_path), wait_s=0)
    cases.submit(application(2, tmp_path), wait_s=0)
    cases.close()
    assert cli.main(["--config", str(config), "outbox", "status", "--json"]) == cli.EXIT_OK
    figures = json.loads(capsys.readouterr().out)
    assert (figures["pending"], figures["delivered"]) == (2, 0) and figures["oldest_pending_age_s"] >= 0
    assert cli.main(["--config", str(config), "--lang", "zh_CN", "outbox", "status"]) == cli.EXIT_OK
    assert "待发送: 2" in capsys.readouterr().out
