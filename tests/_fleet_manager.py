"""The fleet manager for tests: ingest, the job publisher and the HTTPS API, in this process,
against a broker of ``tests._mosquitto``, on a database URL (by default a SQLite file in the
temp dir; ``tests._postgres`` gives PostgreSQL ones).

The API runs under uvicorn with a certificate of the broker's test CA (as in production,
kiosks refuse uploads over plain HTTP); ``Manager.http`` is an httpx client that trusts it.
"""
from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from fleet import auth, credentials
from fleet.api import create_app
from fleet.broker import BrokerOptions
from fleet.db import Database
from fleet.deps import Context
from fleet.ingest import Ingest
from fleet.jobs import Jobs, Publisher
from tests._mosquitto import MANAGER, WAIT_S, Broker, free_port


def broker_options(b: Broker) -> BrokerOptions:
    return BrokerOptions(b.url, MANAGER, str(b.accounts[MANAGER].password_file))


@dataclass
class Manager:
    db: Database
    ingest: Ingest
    jobs: Jobs
    url: str
    ca_file: Path

    def token(self, name: str, role: str) -> str:
        """A new operator with ``role`` and an API token for it."""
        with self.db.session(write=True) as s:
            _, secret = auth.issue_token(s, auth.add_operator(s, name, role, "secret-password"), "api")
        return secret

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, verify=ssl.create_default_context(cafile=self.ca_file), headers=headers,
                            timeout=WAIT_S)

    def query(self, read: Callable[[Any], Any], until: Callable[[Any], bool] = bool) -> Any:
        """``read(session)`` again until ``until`` holds for its result (ingest is asynchronous)."""
        def once() -> Any:
            with self.db.session() as s:
                return read(s)
        return eventually(once, until)


def eventually(get: Callable[[], Any], until: Callable[[Any], bool] = bool) -> Any:
    """``get()`` again until ``until`` holds for what it returns; fails after ``WAIT_S``."""
    deadline = time.monotonic() + WAIT_S
    while True:
        value = get()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r}")
        time.sleep(0.05)


@contextlib.contextmanager
def manager(b: Broker, tmp: Path, db_url: str = "") -> Iterator[Manager]:
    db = Database(db_url or f"sqlite:///{tmp / 'fleet.db'}").create()
    options = broker_options(b)
    ingest = Ingest(db, options, f"test-ingest-{free_port()}", retained_snapshot=True)
    publisher = Publisher(options, f"test-jobs-{free_port()}")
    cert, key = credentials.sign(b.dir / "ca", tmp, "manager", hosts=("localhost", "127.0.0.1"), client=False)
    port = free_port()
    jobs = Jobs(db, publisher, f"https://localhost:{port}")
    app = create_app(Context(db, jobs))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, ssl_certfile=str(cert),
                                           ssl_keyfile=str(key), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    ingest.start()
    publisher.start()
    thread.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the API did not start")
            time.sleep(0.05)
        yield Manager(db, ingest, jobs, f"https://localhost:{port}", b.ca_file)
    finally:
        server.should_exit = True
        thread.join(WAIT_S)
        publisher.stop()
        ingest.stop()
        db.close()
