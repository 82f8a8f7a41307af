"""The device registry from CSV: stations (township, tier, residents, staff) and their terminals.

The columns are those ``fleet-sim --registry-csv`` writes: ``id,station,township,group,tier,
groups,residents,staff`` (``group`` and ``groups`` optional; ``groups`` space-separated).
A terminal's groups here are its groups until it reports its own in its state.
"""
from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.models import TIERS, Device, DeviceGroup, Station
from fleet.protocol import valid_id

REQUIRED = ("id", "station", "township", "tier")
MAX_ROWS = 100_000


class RegistryError(ValueError):
    """A CSV the registry cannot take; the message names the line and the column."""


def _int(row: dict[str, Any], key: str, line: int) -> int:
    value = (row.get(key) or "0").strip()
    if not (value.isascii() and value.isdigit()):
        raise RegistryError(f"line {line}: {key} must be a whole number, not {value[:20]!r}")
    return int(value)


def parse(text: str) -> list[dict[str, Any]]:
    """The rows of a registry CSV, checked; ``RegistryError`` names the first bad one."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise RegistryError(f"the header lacks {', '.join(missing)} (needs {', '.join(REQUIRED)})")
        return _rows(reader)
    except csv.Error as exc:
        raise RegistryError(f"line {reader.line_num}: {exc}") from None


def _rows(reader: csv.DictReader) -> list[dict[str, Any]]:
    rows = []
    for line, row in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise RegistryError(f"more than {MAX_ROWS} rows")
        kiosk, station, tier, township, group = ((row.get(k) or "").strip()
                                                 for k in ("id", "station", "tier", "township", "group"))
        groups = sorted(set((row.get("groups") or "").split()) | ({group} if group else set()))
        if not valid_id(kiosk):
            raise RegistryError(f"line {line}: {kiosk[:70]!r} is not a terminal id")
        if not station or len(station) > 200:
            raise RegistryError(f"line {line}: station must be 1 to 200 characters")
        if tier not in TIERS:
            raise RegistryError(f"line {line}: tier must be one of {', '.join(TIERS)}")
        bad = [g for g in groups if not valid_id(g)]
        if bad:
            raise RegistryError(f"line {line}: {bad[0][:70]!r} is not a group id")
        rows.append({"id": kiosk, "station": station, "township": township[:200],
                     "tier": tier, "groups": groups, "residents": _int(row, "residents", line),
                     "staff": _int(row, "staff", line)})
    return rows


def load(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Add or update the stations and terminals of ``rows``; returns how many of each."""
    stations = {s.name: s for s in session.scalars(select(Station).where(Station.name.in_({r["station"] for r in rows})))}
    for row in rows:
        station = stations.get(row["station"])
        if station is None:
            station = stations[row["station"]] = Station(name=row["station"])
            session.add(station)
        station.township, station.tier = row["township"], row["tier"]
        station.residents, station.staff = row["residents"], row["staff"]
    session.flush()
    devices = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_([r["id"] for r in rows])))}
    for row in rows:
        device = devices.get(row["id"])
        if device is None:
            device = devices[row["id"]] = Device(id=row["id"])
            session.add(device)
        device.station_id = stations[row["station"]].id
        if not device.groups and row["groups"]:
            device.groups = [DeviceGroup(device_id=device.id, group=g) for g in row["groups"]]
    return {"stations": len(stations), "devices": len(devices)}
