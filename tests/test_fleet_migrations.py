"""The manager's schema under Alembic (fleet/migrations), each test on SQLite and on PostgreSQL: an empty
database upgraded to head is the models' schema; one made by ``create_all`` before there were revisions
is adopted with its rows; at head ``create()`` only reads; three processes create a fresh database at
once; a later revision that copies a table on SQLite keeps the rows that refer to it; ``fleet-manager
db-upgrade`` says the revision, and refuses one it does not know."""
from __future__ import annotations

import pprint
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from fleet import manager, migrations
from fleet.db import Database, make_engine
from fleet.models import Base, Device, DevicePart, Operator, Station
from tests._postgres import db_url  # noqa: F401  (a fixture: on SQLite and on PostgreSQL)

ROOT = Path(__file__).resolve().parents[1]
WRITES = re.compile(r"\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE|BEGIN IMMEDIATE)\b", re.I)
CREATE_ON_GO = ("import sys\nfrom fleet.db import Database\ndb = Database(sys.argv[1])\n"
                "print('ready', flush=True)\nsys.stdin.readline()\ndb.create().close()\n")
WIDER_VERSION = '''"""A later revision: devices.version wider (on SQLite the table is copied and replaced)."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.alter_column("version", type_=sa.String(128), existing_type=sa.String(64), existing_nullable=False)
'''


def at_head_like_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        assert migrations.revision(connection) == migrations.head()
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"the revisions and fleet/models.py differ:\n{pprint.pformat(diff)}"


def a_terminal(session: Session) -> None:
    now = datetime.now(timezone.utc)
    station = Station(name="石桥村便民服务站", township="青山镇")
    session.add_all([station, Operator(name="li", role="technician"),
                     Device(id="kiosk-a", station=station, registered_at=now,
                            parts=[DevicePart(name="receipt", kind="printer", status="online", since=now)])])


def test_an_empty_database_upgraded_to_head_has_the_models_schema(db_url):  # noqa: F811
    db = Database(db_url).create()
    try:
        at_head_like_the_models(db)
    finally:
        db.close()


def test_a_database_made_by_create_all_is_stamped_and_keeps_its_rows(db_url):  # noqa: F811
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        a_terminal(session)
    engine.dispose()
    db = Database(db_url).create()
    try:
        at_head_like_the_models(db)
        with db.session() as session:
            assert session.scalars(select(Device.id)).all() == ["kiosk-a"]
            assert session.scalars(select(DevicePart.name)).all() == ["receipt"]
            assert session.scalars(select(Operator.name)).all() == ["li"]
    finally:
        db.close()


def test_create_at_head_only_reads(db_url):  # noqa: F811
    Database(db_url).create().close()
    db = Database(db_url)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, statement, *_: statements.append(statement))
    try:
        db.create()
    finally:
        db.close()
    assert statements, "create() did not look at the database"
    assert not [s for s in statements if WRITES.match(s) or "pg_advisory" in s], statements


def test_three_processes_create_a_fresh_database_at_once(db_url):  # noqa: F811
    children = [subprocess.Popen([sys.executable, "-c", CREATE_ON_GO, db_url], cwd=ROOT, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        for child in children:
            assert child.stdout.readline() == "ready\n"
        for child in children:  # all at once, imports done
            child.stdin.write("go\n")
            child.stdin.flush()
        errors = [child.communicate(timeout=120)[1] for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()
    assert [child.returncode for child in children] == [0, 0, 0], errors
    db = Database(db_url)
    try:
        at_head_like_the_models(db)
    finally:
        db.close()


def test_a_later_revision_copying_a_table_keeps_the_rows_that_refer_to_it(db_url, tmp_path, monkeypatch):  # noqa: F811
    db = Database(db_url).create()
    with db.session(write=True) as session:
        a_terminal(session)
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0002_wider_version.py").write_text(WIDER_VERSION)
    monkeypatch.setattr(migrations, "SCRIPTS", scripts)
    try:
        assert migrations.upgrade(db.engine) == ("0001", "0002")
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(DevicePart)) == 1  # not cascaded away
            assert session.scalar(select(Device.station_id)) is not None
            if db.dialect == "sqlite":
                assert session.execute(text("PRAGMA foreign_key_check")).all() == []
                assert session.scalar(text("PRAGMA foreign_keys")) == 1  # on again for the pool
    finally:
        db.close()


def test_the_db_upgrade_command_says_the_revision(db_url, capsys):  # noqa: F811
    assert manager.main(["db-upgrade", "--db", db_url]) == 0
    assert capsys.readouterr().out == f"schema revision: none -> {migrations.head()}\n"
    assert manager.main(["db-upgrade", "--db", db_url]) == 0
    assert capsys.readouterr().out == f"schema revision: {migrations.head()} -> {migrations.head()}\n"
    engine = make_engine(db_url)
    with engine.begin() as connection:  # as a newer fleet-manager would leave it
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    engine.dispose()
    assert manager.main(["db-upgrade", "--db", db_url]) == 2
    assert "f00d" in capsys.readouterr().err
