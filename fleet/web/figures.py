"""The station figures DOMAIN.md sets that need the service catalog: the one-stop rate, item names.

One-stop handling (一次办结) is counted from what terminals report: a case of an item the
catalog marks ``on_the_spot`` (现场受理、办结、出证) is handled to the end in the one visit,
so the one-stop rate is their share of all cases submitted (target ≥ 80%, seed 000). Item
codes come from the catalog bundled with the kiosk software the terminals run.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fleet.models import Device, ItemHour, utcnow

ONE_STOP_TARGET = 0.8
SATISFACTION_TARGET = 0.95  # seed 001


@lru_cache(maxsize=1)
def catalog() -> dict[str, tuple[str, bool]]:
    """Item code → (name, handled on the spot), from the bundled catalog."""
    from kiosk.catalog import BUNDLED, load_catalog  # the catalog's data, not the kiosk's runtime

    return {str(item.code): (item.name, item.on_the_spot) for item in load_catalog(BUNDLED)}


def item_name(code: str) -> str:
    return catalog().get(code, (code, False))[0]


def one_stop(session: Session, days: int, now: datetime | None = None) -> dict[int, float | None]:
    """Station id → share of its cases over ``days`` that were of on-the-spot items (None: no cases)."""
    spot = [code for code, (_, on_spot) in catalog().items() if on_spot]
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(Device.station_id, func.sum(case((ItemHour.item.in_(spot), ItemHour.cases), else_=0)),
               func.sum(ItemHour.cases))
        .join(Device, Device.id == ItemHour.device_id).where(ItemHour.hour >= since).group_by(Device.station_id))
    return {sid: round(int(on) / int(total), 4) if total else None for sid, on, total in rows}


def station_rows(stations: list[dict[str, Any]], rates: dict[int, float | None]) -> list[dict[str, Any]]:
    """The stations of ``queries.stations`` with their one-stop rate and whether each figure meets its target."""
    return [{**s, "one_stop": rates.get(s["id"]),
             "meets_one_stop": None if rates.get(s["id"]) is None else rates[s["id"]] >= ONE_STOP_TARGET,
             "meets_satisfaction": None if s["satisfaction"] is None else s["satisfaction"] >= SATISFACTION_TARGET}
            for s in stations]
