"""Shared by the cases, outbox and crash tests: a store's config pointed at a running sandbox."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk import config as config_mod
from kiosk.sealed import provision_key
from kiosk.upstream.sandbox.process import SandboxProcess


@contextmanager
def sandbox_at(root: Path, pace: float) -> Iterator[SandboxProcess]:
    """The upstream sandbox running under ``root``; its ``token_file`` holds the terminal's token."""
    with SandboxProcess(root / "sandbox.db", pace=pace) as sandbox:
        sandbox.token_file = str(root / "token")
        sandbox.options(sandbox.token_file)
        yield sandbox


def store_config(root: Path, url: str, token_file: str, terminal: str = "cun-001", **store) -> config_mod.Config:
    """A config whose [store] lives under ``root`` (its key provisioned) and whose [upstream] is ``url``."""
    key = root / "store.key"
    if not key.exists():
        provision_key(key)
    raw = {"terminal": {"id": terminal},
           "store": {"dir": str(root / "store"), "key_file": str(key), **store},
           "upstream": {"url": url, "token_file": token_file, "timeout_s": 5.0}}
    return config_mod.parse(raw, root / "kiosk.toml")


def write_config(root: Path, url: str, token_file: str, terminal: str) -> Path:
    """The same as a TOML file, for a kiosk subprocess."""
    store_config(root, url, token_file, terminal)  # provisions the key
    path = root / "kiosk.toml"
    path.write_text(f'[terminal]\nid = "{terminal}"\n\n[store]\ndir = "{root / "store"}"\n'
                    f'key_file = "{root / "store.key"}"\n\n[upstream]\nurl = "{url}"\n'
                    f'token_file = "{token_file}"\ntimeout_s = 5.0\n', encoding="utf-8")
    return path


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result
