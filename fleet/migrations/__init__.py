"""The manager's schema, kept by Alembic: ``upgrade(engine)`` brings a database to the newest revision.

An empty database gets every revision; one made by ``create_all`` before there were revisions (its
tables, no ``alembic_version``) is stamped at the baseline first; one at the newest is left alone
after one read. Processes that start at once take turns: on PostgreSQL an advisory lock, on SQLite
the write lock (BEGIN IMMEDIATE); the revisions run in that one transaction.

The next revision, for a change in ``fleet/models.py`` (from the repository's root; ``pyproject.toml``
holds the command line's ``[tool.alembic]``)::

    .venv/bin/alembic -x db=sqlite:////tmp/head.db upgrade head
    .venv/bin/alembic -x db=sqlite:////tmp/head.db revision --autogenerate --rev-id 0002 -m "devices: add x"

then read and clean ``versions/0002_devices_add_x.py`` (autogenerate misses renames and server
defaults), and test it on both databases: ``tests/test_fleet_migrations.py`` fails while the
models and the revisions differ.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

SCRIPTS = Path(__file__).parent
BASELINE = "0001"  # the schema create_all made before there were revisions
LOCK_KEY = 0x666C656574  # "fleet": the advisory lock PostgreSQL upgrades take turns on


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built here (no alembic.ini): the revisions, and the connection to run on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision this software knows."""
    return ScriptDirectory.from_config(config()).get_current_head()


def revision(connection: Connection) -> str | None:
    """The database's revision; None before any (empty, or made by ``create_all``)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to ``head()``: the revisions before and after."""
    with engine.connect() as connection:
        before = revision(connection)
    newest = head()
    if before == newest:
        return before, newest
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a table copied and replaced must not cascade its DROP; only outside a transaction
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.execution_options(writer=True).begin():
                if not sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                before = revision(connection)  # another process may have upgraded meanwhile
                if before is None and inspect(connection).has_table("devices"):
                    command.stamp(config(connection), BASELINE)
                command.upgrade(config(connection), "head")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    return before, newest
