"""CSV exports of the read queries: UTF-8 with a BOM, so spreadsheets read the Chinese names."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from fleet import queries
from fleet.deps import found, reader, require

router = APIRouter(prefix="/api/v1/export")
viewer = require("viewer")
MAX_ROWS = 100_000


def csv_response(name: str, columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):  # not a formula in a spreadsheet
        return "'" + value
    return "" if value is None else value


@router.get("/devices.csv")
def devices_csv(s: Session = Depends(reader), _: Any = Depends(viewer)) -> Response:
    rows = queries.devices(s, limit=MAX_ROWS)["devices"]
    return csv_response("devices.csv", ("id", "station", "township", "tier", "groups", "version", "state",
                                        "state_since", "last_seen", "alerts", "parts_in_trouble", "disk_free_mb",
                                        "outbox_pending"), rows)


@router.get("/alerts.csv")
def alerts_csv(state: str = Query(queries.ACTIVE, pattern="open|acknowledged|resolved|active"),
               s: Session = Depends(reader), _: Any = Depends(viewer)) -> Response:
    rows = queries.alerts(s, state=state, limit=MAX_ROWS)["alerts"]
    return csv_response("alerts.csv", ("id", "rule", "device", "station", "township", "part", "severity", "state",
                                       "detail", "opened_at", "acknowledged_at", "acknowledged_by", "resolved_at",
                                       "resolved_by"), rows)


@router.get("/stations.csv")
def stations_csv(days: int = Query(30, ge=1, le=400), s: Session = Depends(reader), _: Any = Depends(viewer)) -> Response:
    rows = queries.stations(s, days)["stations"]
    return csv_response("stations.csv", ("name", "township", "tier", "residents", "staff", "devices", "online",
                                         "sessions", "cases", "cases_per_staff_day", "tier_threshold", "meets_tier",
                                         "avg_wait_s", "satisfaction"), rows)


@router.get("/metrics.csv")
def metrics_csv(station: int = Query(), days: int = Query(7, ge=1, le=400), s: Session = Depends(reader),
                _: Any = Depends(viewer)) -> Response:
    series = found(queries.station_series(s, station, days, "hour"), f"station {station}")
    return csv_response("metrics.csv", ("t", "sessions", "cases", "prints", "scans", "queue_issued", "avg_wait_s",
                                        "satisfaction"), series["points"])
