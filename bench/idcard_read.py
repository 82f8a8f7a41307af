"""Time to read an identity through the simulated SAM reader, against the wire-time floor.

A pty has no baud rate, so the simulator paces itself to the configured rate: it
answers a request no sooner than the request's bytes would take to arrive, and sends
its answer no faster than a UART would (10 bits per byte). The floor is the wire time
of every byte of the same read (find, select, read; both directions) at that rate,
counted by the simulator in this run. An unpaced run shows the driver's own overhead.

    python bench/idcard_read.py [--baudrate 115200] [--reads 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.idcard.samv import SamvOptions, SamvReader  # noqa: E402
from drivers.sim.samv_reader import SimulatedSamvReader  # noqa: E402


def measure(baudrate: int, reads: int, paced: bool) -> tuple[float, int]:
    """Median seconds per read_identity, and the wire bytes of one read."""
    with tempfile.TemporaryDirectory() as tmp, SimulatedSamvReader(
            link=Path(tmp) / "samv-tty", pace_baudrate=baudrate if paced else None) as sim:
        sim.insert()
        reader = SamvReader("idcard", SamvOptions(port=sim.port, baudrate=baudrate))
        try:
            reader.read_identity(timeout=5).result()  # open the port, warm up
            times, wire = [], 0
            for _ in range(reads):
                before = sim.wire_bytes
                start = time.perf_counter()
                reader.read_identity(timeout=5).result()
                times.append(time.perf_counter() - start)
                wire = sim.wire_bytes - before
            return statistics.median(times), wire
        finally:
            reader.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--reads", type=int, default=20)
    args = parser.parse_args()
    paced, wire = measure(args.baudrate, args.reads, paced=True)
    unpaced, _ = measure(args.baudrate, args.reads, paced=False)
    floor = wire * 10 / args.baudrate
    print(f"ID card read at {args.baudrate} baud, median of {args.reads} reads")
    print(f"  floor (wire time of {wire} bytes, 10 bits/byte): {floor * 1000:8.1f} ms")
    print(f"  read_identity, simulator paced to the baud rate: {paced * 1000:8.1f} ms"
          f"  (ratio {paced / floor:.2f}x the floor)")
    print(f"  read_identity, unpaced pty (driver overhead):    {unpaced * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
