"""Dashboard overview latency with 10,000 terminals in the manager's database.

The fleet is ``fleet-sim``'s layout; each terminal's last day (state, health, faults: paper
running low, card readers failing, outboxes stuck, terminals going silent, at ``--fault-rate``)
is written through the manager's own writer, which also opens the alerts, so the overview has
problems to sort first. The manager's app (``fleet.api.create_app``, the dashboard mounted)
then runs under uvicorn in its own process on SQLite, and a signed-in client asks, one request
at a time, for:

- the overview (counts by state and problem, townships, the first page of terminals, problems first),
- the overview filtered (only terminals with problems) and a deep page (page 150 of 200),
- the baseline: the sign-in page of the same app (a template, no database), and ``/api/v1/me``
  (the session lookup every page does).

Run: python bench/fleet_dashboard.py [--count 10000] [--requests 200] [--fault-rate 5]
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from fleet import auth, sim_layout  # noqa: E402
from fleet import protocol as p  # noqa: E402
from fleet.db import Database  # noqa: E402
from fleet.models import Alert, Device  # noqa: E402
from tests._fleet_history import seed  # noqa: E402
from fleet.local_broker import free_port  # noqa: E402

PASSWORD = "bench-password"


def serve(db_url: str, port: int) -> None:
    """The manager's app (API and dashboard) on ``port``; no broker: nothing here issues jobs."""
    import uvicorn

    from fleet.api import create_app
    from fleet.deps import Context
    from fleet.jobs import Jobs

    db = Database(db_url)
    uvicorn.run(create_app(Context(db, Jobs(db, None), secure_cookies=False)), host="127.0.0.1", port=port,
                log_level="warning")


def timings(http: httpx.Client, path: str, requests: int) -> list[float]:
    http.get(path).raise_for_status()  # warm: templates compiled, pages of the database cached
    spent = []
    for _ in range(requests):
        start = time.perf_counter()
        answer = http.get(path)
        spent.append((time.perf_counter() - start) * 1000)
        answer.raise_for_status()
    return spent


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/fleet.db"
        db = Database(url).create()
        started = time.perf_counter()
        written = seed(db, sim_layout.layout(args.count, "sim", 1), 1, p.now(), seed=1, fault_rate=args.fault_rate,
                       metrics=False)
        with db.session(write=True) as s:
            auth.add_operator(s, "bench", "viewer", PASSWORD)
        with db.session() as s:
            devices = s.scalar(select(func.count()).select_from(Device))
            states = dict(s.execute(select(Device.state, func.count()).group_by(Device.state)).all())
            alerts = s.scalar(select(func.count()).select_from(Alert).where(Alert.state != "resolved"))
        db.close()
        print(f"seeded {devices} terminals ({written} messages through the writer, {time.perf_counter() - started:.0f} s): "
              f"{states}, {alerts} unresolved alerts")
        port = free_port()
        server = multiprocessing.get_context("spawn").Process(target=serve, args=(url, port), daemon=True)
        server.start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        http.get("/login")
                        break
                    except httpx.TransportError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
                if http.post("/login", data={"name": "bench", "password": PASSWORD}).status_code != 303:
                    raise RuntimeError("could not sign in")
                cases = {"sign-in page (baseline: no database)": "/login",
                         "/api/v1/me (baseline: the session lookup)": "/api/v1/me",
                         "overview, first page": "/",
                         "overview, only terminals with problems": "/?problems=1",
                         "overview, page 150": "/?page=150"}
                print(f"{'page':<45} {'median ms':>10} {'p95 ms':>8}   ({args.requests} requests each, one at a time)")
                for name, path in cases.items():
                    spent = timings(http, path, args.requests)
                    print(f"{name:<45} {statistics.median(spent):>10.1f} {p95(spent):>8.1f}")
        finally:
            server.terminate()
            server.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
