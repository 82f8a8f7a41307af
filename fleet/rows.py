"""Devices as plain rows for ingest: loaded and saved with Core statements.

Ingest touches thousands of devices per batch, where the ORM's identity map and unit of
work cost more than the work itself. ``DeviceRow`` has the ``devices`` columns as
attributes and the parts by name, so the alert rules read it like a ``Device``;
``save_devices`` writes the columns and parts that changed.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from fleet.db import Database, among
from fleet.models import Device, DeviceGroup, DevicePart, missed

DEVICES, PARTS, GROUPS = Device.__table__, DevicePart.__table__, DeviceGroup.__table__
COLUMN_SET = frozenset(c.name for c in DEVICES.c if c.name != "id")


class PartRow:
    __slots__ = ("device_id", "name", "kind", "status", "detail", "since")

    def __init__(self, device_id: str, name: str, kind: str, status: str, detail: dict[str, Any], since: datetime):
        self.device_id, self.name, self.kind, self.status, self.detail, self.since = \
            device_id, name, kind, status, detail, since

    def values(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def looks(self) -> tuple[str, str, dict[str, Any]]:
        return self.kind, self.status, self.detail


class DeviceRow:
    """One ``devices`` row and its parts; ``changed`` names the columns set to new values, ``groups``
    is set when the device's groups are to be replaced."""

    def __init__(self, values: dict[str, Any], parts: dict[str, PartRow]):
        self.__dict__.update(values)
        self.__dict__.update(by_name=parts, loaded={name: part.looks() for name, part in parts.items()},
                             groups=None, stored_groups=(), changed=set())

    def __setattr__(self, name: str, value: Any) -> None:
        if name in COLUMN_SET and self.__dict__[name] != value:
            self.changed.add(name)
        self.__dict__[name] = value

    @property
    def parts(self) -> list[PartRow]:
        return list(self.by_name.values())

    @property
    def missing(self) -> int:
        return missed(self.seq_max, self.seq_received, self.state)


def load_devices(session: Session, ids: list[str], *, lock: bool, skip_locked: bool = False,
                 groups_of: set[str]) -> dict[str, DeviceRow]:
    """The rows of ``ids`` (existing), locked for update where the database can (``lock``), leaving
    out those another transaction has locked (``skip_locked``); the stored groups of the devices
    in ``groups_of``."""
    query = select(DEVICES).where(among(session, DEVICES.c.id, ids)).order_by(DEVICES.c.id)
    devices = list(session.execute(query.with_for_update(skip_locked=skip_locked) if lock else query).mappings())
    ids = [d["id"] for d in devices]
    parts: dict[str, dict[str, PartRow]] = defaultdict(dict)
    for row in session.execute(select(PARTS).where(among(session, PARTS.c.device_id, ids))).mappings():
        parts[row["device_id"]][row["name"]] = PartRow(**row)
    found = {d["id"]: DeviceRow(dict(d), parts[d["id"]]) for d in devices}
    groups_of = groups_of & found.keys()
    if groups_of:
        stored: dict[str, list[str]] = defaultdict(list)
        for device_id, group in session.execute(select(GROUPS.c.device_id, GROUPS.c.group)
                                                .where(among(session, GROUPS.c.device_id, groups_of))):
            stored[device_id].append(group)
        for device_id, groups in stored.items():
            found[device_id].stored_groups = tuple(sorted(groups))
    return found


def save_devices(session: Session, devices: Iterable[DeviceRow], db: Database) -> None:
    devices = list(devices)
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    for d in devices:  # one UPDATE for each set of columns that changed: most devices share one
        if d.changed:
            by_columns[frozenset(d.changed)].append({"id": d.id, **{c: d.__dict__[c] for c in d.changed}})
    for rows in by_columns.values():
        session.execute(*db.update_rows(DEVICES, rows, ("id",)))
    added, changed, gone = [], [], []
    for d in devices:
        for name, part in d.by_name.items():
            before = d.loaded.get(name)
            if before is None:
                added.append(part.values())
            elif before != part.looks():
                changed.append(part.values())
        gone += [(d.id, name) for name in d.loaded if name not in d.by_name]
    if added:
        session.execute(*db.insert_rows(PARTS, added))
    if changed:
        session.execute(*db.update_rows(PARTS, changed, ("device_id", "name")))
    if gone:
        session.execute(delete(PARTS).where(tuple_(PARTS.c.device_id, PARTS.c.name).in_(gone)))
    regrouped = [d for d in devices if d.groups is not None]
    if regrouped:
        session.execute(delete(GROUPS).where(among(session, GROUPS.c.device_id, [d.id for d in regrouped])))
        rows = [{"device_id": d.id, "group": g} for d in regrouped for g in d.groups or ()]
        if rows:
            session.execute(GROUPS.insert(), rows)
