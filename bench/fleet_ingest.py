"""Ingest throughput with 10,000 simulated terminals against a real mosquitto on loopback.

1. Offered load: ``fleet-sim`` runs the terminals (default intervals sped up ``--speed``
   times) while a plain subscriber counts and records what they publish; divided by the
   speed, the rate is the load at the protocol's default intervals.
2. Capacity: the recording is published again while the consumers' persistent sessions are
   offline, so the broker holds it for them as a backlog; then each consumer drains it
   alone: a bare paho subscriber that only counts (the baseline), one ``fleet.ingest.Ingest``
   process (validation, de-duplication, the database writes, acknowledgements after the
   commit), and, with the same backlog again, two ingest processes on the shared
   subscription. Messages per second drained is what the consumer sustains; nothing else
   of the bench competes for the CPU meanwhile.

The replay is at QoS 1 (mosquitto 2.0.11 does not reliably deliver QoS 0 messages it
queued for an offline session); the ingest treats health alike at either QoS. The broker
has the deploy config's ``max_inflight_messages 20`` but no queue limit. The database is
SQLite in a temp dir per run; ``--db postgresql`` starts a private PostgreSQL server for the
run (``tests._postgres``, fsync on as in production) with a new database per drain; ``--db URL``
uses that database.

The drains of one and of two processes alternate for ``--rounds`` rounds, so a change in the
machine falls on both; the figures are the medians.

Run: python bench/fleet_ingest.py [--count 10000] [--speed 5] [--seconds 40] [--sim-processes 2] [--rounds 3]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from fleet.ingest import FILTERS, GROUP  # noqa: E402
from fleet.local_broker import free_port, wait_listening  # noqa: E402
from tests._postgres import Server  # noqa: E402

IDLE_S = 5.0  # a drain is over when nothing arrives for this long
REPLAY_WINDOW = 10000
CONNECTED_SHARE = 0.995  # the sim's outages keep some terminals away at any moment
DEFAULT_RATE_NOTE = "health every 30 s, metrics every 60 s, events as faults happen"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def mosquitto(tmp: Path) -> Iterator[tuple[int, Callable[[], float]]]:
    """A private broker: its port, and the CPU seconds it has used so far."""
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_inflight_messages 20\nmax_queued_messages 0\nmax_queued_bytes 0\n"
                    f"log_dest file {tmp / 'mosquitto.log'}\nlog_type error\nlog_type warning\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_listening(proc, port)
        yield port, lambda: cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def connect(port: int, client_id: str = "", *, expiry_s: int = 3600, on_message=None,
            inflight: int = 20) -> mqtt.Client:
    """A connected MQTT 5 client; with a ``client_id`` its session persists (``expiry_s``) and resumes."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(inflight)
    client.on_message = on_message
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, pr: connected.set()
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry_s if client_id else 0
    client.connect("127.0.0.1", port, clean_start=not client_id or expiry_s == 0, properties=props)
    client.loop_start()
    if not connected.wait(15):
        raise RuntimeError(f"{client_id or 'a client'} could not connect")
    return client


def close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def subscribe(client: mqtt.Client, group: str | None) -> None:
    """The ingest's filters, shared in ``group`` (or plain); returns after the SUBACK."""
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.subscribe([(f"$share/{group}/{f}" if group else f, 1) for f in FILTERS])
    if not done.wait(15):
        raise RuntimeError("no SUBACK")


def prepare(port: int, *sessions: tuple[str, str]) -> None:
    """Make each (client id, share group) session exist, subscribed, then leave it offline."""
    for client_id, group in sessions:
        client = connect(port, client_id)
        subscribe(client, group)
        close(client)


def forget(port: int, client_id: str) -> None:
    """End a session, so it leaves its share group."""
    close(connect(port, client_id, expiry_s=0))


class Subscriber:
    """A subscriber that only counts: the baseline (resuming ``client_id``'s session), or with no
    id the offered-load meter (a plain subscription), which also records what it gets."""

    def __init__(self, port: int, client_id: str = ""):
        self.count, self.kiosks, self.last = 0, set(), time.monotonic()
        self.recorded: list[tuple[str, bytes]] | None = None
        self.client = connect(port, client_id, on_message=self._on_message)
        if not client_id:
            subscribe(self.client, None)

    def _on_message(self, client, userdata, message) -> None:
        self.count += 1  # paho's one network thread calls this
        self.last = time.monotonic()
        if message.topic.endswith("/state"):
            self.kiosks.add(message.topic.split("/")[2])
        if self.recorded is not None:
            self.recorded.append((message.topic, message.payload))


def run_sim(port: int, args: argparse.Namespace, log_file: Path) -> subprocess.Popen:
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "fleet.sim", "--broker", f"mqtt://127.0.0.1:{port}", "--count", str(args.count),
             "--processes", str(args.sim_processes), "--speed", str(args.speed), "--connect-rate", "1000"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)


def record(port: int, args: argparse.Namespace, log_file: Path) -> tuple[list[tuple[str, bytes]], float]:
    """Run the sim; once (nearly) every terminal is connected, record what it publishes for
    ``args.seconds``: the messages, and their rate."""
    meter = Subscriber(port)
    sim = run_sim(port, args, log_file)
    started = time.monotonic()
    try:
        while len(meter.kiosks) < CONNECTED_SHARE * args.count:  # a few start with their line down
            if sim.poll() is not None or time.monotonic() - started > 300:
                raise RuntimeError(f"the sim connected {len(meter.kiosks)} of {args.count} terminals; see {log_file}")
            time.sleep(0.5)
        print(f"  {len(meter.kiosks)} terminals connected in {time.monotonic() - started:.1f} s", flush=True)
        meter.recorded, begin = [], time.monotonic()
        time.sleep(args.seconds)
        recorded, meter.recorded = meter.recorded, None
        return recorded, len(recorded) / (time.monotonic() - begin)
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(120)
        close(meter.client)


def replay(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish ``messages`` again, at QoS 1 so the broker keeps them for offline sessions (it does
    not deliver queued QoS 0 messages reliably); returns when the broker has taken them all.
    At most ``REPLAY_WINDOW`` wait for their acknowledgement: paho's message ids are 16 bits."""
    acked = threading.Semaphore(0)
    client = connect(port, inflight=1000)
    client.on_publish = lambda *a: acked.release()
    for k, (topic, payload) in enumerate(messages):
        if k >= REPLAY_WINDOW:
            _acknowledged(acked)
        client.publish(topic, payload, qos=1)
    for _ in range(min(len(messages), REPLAY_WINDOW)):
        _acknowledged(acked)
    close(client)


def _acknowledged(acked: threading.Semaphore) -> None:
    if not acked.acquire(timeout=60):
        raise RuntimeError("the broker stopped acknowledging the replay")


def drain_counter(port: int, client_id: str) -> tuple[int, float]:
    start = time.monotonic()
    counter = Subscriber(port, client_id)
    while time.monotonic() - counter.last < IDLE_S:
        time.sleep(0.1)
    close(counter.client)
    return counter.count, counter.last - start


def drain_ingest(port: int, names: list[str], db_url: str) -> tuple[int, float, list[dict]]:
    """Drain with one ingest process per name, all at once; (messages, seconds, each one's stats)."""
    from fleet.db import Database

    Database(db_url).create().close()  # the schema first, outside the drains
    procs = [subprocess.Popen([sys.executable, __file__, "--child-ingest", name, "--port", str(port), "--db", db_url],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True) for name in names]
    results = [json.loads(proc.communicate(timeout=1800)[0].strip().splitlines()[-1]) for proc in procs]
    return sum(r["received"] for r in results), max(r["seconds"] for r in results), results


def child_ingest(name: str, port: int, db_url: str) -> None:
    """In a child process: one Ingest on its persistent session until idle; its figures as JSON."""
    import logging

    from fleet.broker import BrokerOptions
    from fleet.db import Database
    from fleet.ingest import Ingest

    logging.basicConfig(level=logging.WARNING)
    ingest = Ingest(Database(db_url).create(), BrokerOptions(f"mqtt://127.0.0.1:{port}", username=name), name)
    start = last_change = time.monotonic()
    cpu = time.process_time()
    ingest.start()
    seen = 0
    while time.monotonic() - last_change < IDLE_S:
        time.sleep(0.05)
        if ingest.stats.received != seen:
            seen, last_change = ingest.stats.received, time.monotonic()
    ingest.stop()
    s = ingest.stats
    print(json.dumps({"received": s.received, "written": s.written, "malformed": s.malformed,
                      "duplicates": s.duplicates, "batches": s.batches, "seconds": last_change - start,
                      "cpu_s": round(time.process_time() - cpu, 2)}))


@contextlib.contextmanager
def databases(db: str | None, tmp: Path) -> Iterator[tuple[Callable[[str], str], Callable[[], float] | None]]:
    """A database URL for each run (``one``, ``two``): see the module's docstring; and, for a
    private server, the CPU seconds it has used so far."""
    if db == "postgresql":
        server = Server(durable=True).start()
        try:
            yield server.new_database, server.cpu_seconds
        finally:
            server.stop()
    else:
        yield ((lambda run: db) if db else (lambda run: f"sqlite:///{tmp / run}.db")), None


def drain_ingest_measured(port: int, names: list[str], db_url: str, n: int, broker_cpu: Callable[[], float],
                          db_cpu: Callable[[], float] | None) -> tuple[int, float, list[dict], str]:
    """``drain_ingest``, and what it cost the CPUs per 1,000 of the ``n`` messages replayed."""
    before, broker_before = (db_cpu() if db_cpu else 0.0), broker_cpu()
    received, seconds, stats = drain_ingest(port, names, db_url)
    cost = (f"CPU per 1,000 messages: ingest {sum(r['cpu_s'] for r in stats) / n * 1000:.2f} s, "
            f"mosquitto {(broker_cpu() - broker_before) / n * 1000:.2f} s")
    if db_cpu:
        cost += f", PostgreSQL {(db_cpu() - before) / n * 1000:.2f} s"
    return received, seconds, stats, cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--speed", type=float, default=5.0, help="the sim's speed while the backlog builds")
    parser.add_argument("--seconds", type=float, default=40.0, help="how long the sim runs once connected")
    parser.add_argument("--sim-processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="drains of one and of two processes, alternating")
    parser.add_argument("--db", help="postgresql (a private server) or a database URL (default: SQLite in a temp dir)")
    parser.add_argument("--child-ingest", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ingest:
        child_ingest(args.child_ingest, args.port, args.db)
        return
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto is not installed")
    with tempfile.TemporaryDirectory() as tmp_dir, mosquitto(Path(tmp_dir)) as (port, broker_cpu), \
            databases(args.db, Path(tmp_dir)) as (db_of, db_cpu):
        print(f"{args.count} terminals, sim at {args.speed:g}x for {args.seconds:g} s, database {args.db or 'sqlite'}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
        sim_log = Path(tempfile.gettempdir()) / "fleet_ingest_sim.log"
        sim_log.unlink(missing_ok=True)
        recorded, rate = record(port, args, sim_log)
        offered = rate / args.speed
        kinds = Counter(topic.split("/")[3] for topic, _ in recorded)
        print(f"offered load at default intervals ({DEFAULT_RATE_NOTE}): {offered:.0f} msg/s "
              f"(measured {rate:.0f} msg/s at {args.speed:g}x); recorded {len(recorded)} messages: {dict(kinds)}",
              flush=True)
        n = len(recorded)  # the rates count these; the retained states each subscription also gets come on top
        ones, ratios = [], []
        for round_no in range(1, args.rounds + 1):
            print(f"round {round_no} of {args.rounds}", flush=True)
            one, two = drain_round(port, recorded, offered, round_no, broker_cpu, db_of, db_cpu)
            ones.append(one)
            ratios.append(two / one)
        print(f"\nmedians of {args.rounds} rounds: headroom of one process {statistics.median(ones) / offered:.1f}x "
              f"(target 5x); two vs one {statistics.median(ratios):.2f}x (target 1.8x; each round: "
              f"{', '.join(f'{r:.2f}x' for r in ratios)}); load average {os.getloadavg()[0]:.1f}")


def drain_round(port: int, recorded: list[tuple[str, bytes]], offered: float, round_no: int,
                broker_cpu: Callable[[], float], db_of: Callable[[str], str],
                db_cpu: Callable[[], float] | None) -> tuple[float, float]:
    """The backlog drained by the baseline and one ingest process, then again by two: their rates."""
    n = len(recorded)
    prepare(port, ("bench-baseline", "baseline"), ("ingest-one", GROUP))
    replay(port, recorded)
    base_n, base_s = drain_counter(port, "bench-baseline")
    base = n / base_s
    print(f"baseline, a bare paho subscriber that only counts: {base_n} in {base_s:.1f} s = {base:.0f} msg/s",
          flush=True)
    one_n, one_s, one_stats, one_cost = drain_ingest_measured(port, ["ingest-one"], db_of(f"one{round_no}"), n,
                                                              broker_cpu, db_cpu)
    one = n / one_s
    print(f"one ingest process: {one_n} in {one_s:.1f} s = {one:.0f} msg/s "
          f"({one / offered:.1f}x the offered load; {one / base:.2f}x the baseline) {one_stats}; {one_cost}",
          flush=True)
    forget(port, "ingest-one")
    forget(port, "bench-baseline")
    prepare(port, ("ingest-two-a", GROUP), ("ingest-two-b", GROUP))
    replay(port, recorded)
    two_n, two_s, two_stats, two_cost = drain_ingest_measured(port, ["ingest-two-a", "ingest-two-b"],
                                                              db_of(f"two{round_no}"), n, broker_cpu, db_cpu)
    two = n / two_s
    print(f"two ingest processes: {two_n} in {two_s:.1f} s = {two:.0f} msg/s ({two / one:.2f}x one process) "
          f"{two_stats}; {two_cost}", flush=True)
    forget(port, "ingest-two-a")
    forget(port, "ingest-two-b")
    return one, two


if __name__ == "__main__":
    main()
