"""The computer's own health for the fleet: CPU, memory, disk, temperature, uptime, network.

Read from /proc and /sys on Linux; a figure that cannot be read is None.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from fleet.protocol import SystemHealth


class SystemReader:
    """Call it for a ``SystemHealth``; CPU use is measured between two calls."""

    def __init__(self, disk_path: str = "/"):
        self.disk_path = disk_path
        self._last_cpu = _cpu_times()

    def __call__(self) -> SystemHealth:
        cpu = _cpu_times()
        cpu_pct = None
        if cpu and self._last_cpu:
            busy, total = cpu[0] - self._last_cpu[0], cpu[1] - self._last_cpu[1]
            cpu_pct = round(100.0 * busy / total, 1) if total > 0 else 0.0
        self._last_cpu = cpu
        return SystemHealth(cpu_pct, _mem_used_mb(), _disk_free_mb(self.disk_path), _temp_c(), _uptime_s(), _net())


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def _cpu_times() -> tuple[int, int] | None:
    text = _read("/proc/stat")
    if not text:
        return None
    values = [int(v) for v in text.split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def _mem_used_mb() -> float | None:
    text = _read("/proc/meminfo")
    if not text:
        return None
    info = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines() if len(line.split()) >= 2}
    if "MemTotal" not in info or "MemAvailable" not in info:
        return None
    return round((info["MemTotal"] - info["MemAvailable"]) / 1024, 1)


def _disk_free_mb(path: str) -> float | None:
    try:
        return round(shutil.disk_usage(path).free / 2**20, 1)
    except OSError:
        return None


def _temp_c() -> float | None:
    text = _read("/sys/class/thermal/thermal_zone0/temp")
    try:
        return round(int(text) / 1000, 1) if text else None
    except ValueError:
        return None


def _uptime_s() -> float | None:
    text = _read("/proc/uptime")
    return float(text.split()[0]) if text else None


def _net() -> str:
    """The interface of the default route ("" when there is none)."""
    for line in (_read("/proc/net/route") or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000":
            return fields[0]
    return ""
