"""The sealing key, sealed values and files, and the store's SQLite schema and migrations."""
from __future__ import annotations

import os
import sqlite3

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.sealed import KeyFileError, SealError, Sealer, load_key, provision_key
from kiosk.store import MIGRATIONS, Store, StoreError, migrate
from kiosk.store_options import DB_NAME


@pytest.fixture()
def sealer(tmp_path):
    return Sealer.from_file(provision_key(tmp_path / "keys" / "store.key"))


def test_provisioned_key_is_owner_only_and_never_replaced(tmp_path):
    path = provision_key(tmp_path / "store.key")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(load_key(path)) == 32
    with pytest.raises(KeyFileError, match="already there"):
        provision_key(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_key_others_may_read_is_refused(tmp_path, mode):
    path = provision_key(tmp_path / "store.key")
    path.chmod(mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        Sealer.from_file(path)


def test_missing_or_short_key_file_says_what_to_do(tmp_path):
    with pytest.raises(KeyFileError, match="kiosk provision-key"):
        load_key(tmp_path / "none.key")
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 16)
    short.chmod(0o600)
    with pytest.raises(KeyFileError, match="32 bytes"):
        load_key(short)


def test_sealed_value_opens_only_with_its_key_and_place(sealer, tmp_path):
    blob = sealer.seal("张三 440811199001011234".encode(), "cases/R1/applicant")
    assert "张三".encode() not in blob and b"440811" not in blob
    assert sealer.open(blob, "cases/R1/applicant").decode() == "张三 440811199001011234"
    with pytest.raises(SealError, match="wrong key"):
        sealer.open(blob, "cases/R2/applicant")  # moved to another row
    other = Sealer.from_file(provision_key(tmp_path / "other.key"))
    with pytest.raises(SealError, match="wrong key"):
        other.open(blob, "cases/R1/applicant")
    assert sealer.seal(b"same", "x") != sealer.seal(b"same", "x")  # a fresh nonce every time


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_either_open_or_raise_seal_error(blob):
    sealer = Sealer(b"k" * 32)
    with pytest.raises(SealError):
        sealer.open(blob, "cases/R1/applicant")
    genuine = sealer.seal(b"value", "w")
    if blob:
        damaged = genuine[:len(genuine) // 2] + blob + genuine[len(genuine) // 2 + len(blob):]
        if damaged != genuine:
            with pytest.raises(SealError):
                sealer.open(damaged, "w")


def test_sealed_file_is_on_disk_and_fails_loudly_when_damaged(sealer, tmp_path):
    path = tmp_path / "page.sealed"
    sealer.write_file(path, b"\x89PNG page", "materials/R1/0/1")
    assert b"PNG" not in path.read_bytes()
    assert sealer.read_file(path, "materials/R1/0/1") == b"\x89PNG page"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(SealError):
        sealer.read_file(path, "materials/R1/0/1")


def test_lookup_tags_are_keyed(sealer):
    assert sealer.tag("440811199001011234") == sealer.tag("440811199001011234")
    assert sealer.tag("440811199001011234") != Sealer(b"k" * 32).tag("440811199001011234")
    assert "440811" not in sealer.tag("440811199001011234")


def test_store_is_wal_with_full_sync(tmp_path):
    store = Store(tmp_path)
    assert store.value("PRAGMA journal_mode") == "wal"
    assert store.value("PRAGMA synchronous") == 2  # FULL
    assert store.version == len(MIGRATIONS)
    with pytest.raises(StoreError, match="without the key"):
        store.sealer  # noqa: B018
    store.close()


def test_migrates_from_empty_and_from_the_previous_version(tmp_path):
    old = Store(tmp_path, upto=1)
    assert old.version == 1
    with old.transaction() as tx:
        tx.execute("INSERT INTO cases (ref, item_code, item_name, status, promised_date, submitted_at)"
                   " VALUES ('R1', '2000101000', '事项', 'queued', '2026-01-02', '2026-01-01T10:00:00+08:00')")
    assert not old.rows("SELECT name FROM sqlite_master WHERE name = 'evaluations'")
    old.close()
    store = Store(tmp_path)
    assert store.version == len(MIGRATIONS) == 3
    assert store.value("SELECT item_name FROM cases WHERE ref = 'R1'") == "事项"
    assert store.rows("SELECT name FROM sqlite_master WHERE name = 'evaluations'")
    store.close()


def test_a_failed_migration_step_leaves_the_previous_version(tmp_path, monkeypatch):
    Store(tmp_path, upto=1).close()
    conn = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    monkeypatch.setattr("kiosk.store.MIGRATIONS", (MIGRATIONS[0], "CREATE TABLE evaluations (x); CREATE TABLE x (;"))
    with pytest.raises(sqlite3.Error):
        migrate(conn)
    assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == 1
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'evaluations'").fetchall()


def test_a_store_refuses_another_key(tmp_path, sealer):
    Store(tmp_path / "s", sealer).close()
    Store(tmp_path / "s", sealer).close()  # the same key again: fine
    with pytest.raises(SealError, match="wrong key"):
        Store(tmp_path / "s", Sealer(b"k" * 32))


def test_a_newer_store_is_refused(tmp_path):
    Store(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    with pytest.raises(StoreError, match="version 99"):
        Store(tmp_path)


def test_a_transaction_that_fails_leaves_nothing(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.execute("INSERT INTO audit (at, actor, action, subject) VALUES ('t', 'a', 'b', 'c')")
        raise RuntimeError("power cut")
    assert store.value("SELECT count(*) FROM audit") == 0
    store.close()


def test_the_store_section_of_the_config(tmp_path):
    from kiosk import config

    cfg = config.parse({"store": {"dir": str(tmp_path), "key_file": str(tmp_path / "k"), "retention_days": 7}})
    assert cfg.store.retention_days == 7 and cfg.store.db_path == tmp_path / DB_NAME
    assert config.parse({}).store.retention_days == 30
    with pytest.raises(config.ConfigError, match=r"\[store\] key 'retention_days' must be between 1 and 3650"):
        config.parse({"store": {"retention_days": 0}})
    with pytest.raises(config.ConfigError, match=r"\[store\] unknown key 'path'"):
        config.parse({"store": {"path": "/x"}})
