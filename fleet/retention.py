"""Retention: what the manager keeps, and for how long; ``purge`` deletes the rest."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from fleet.db import Database
from fleet.models import ALERT_RESOLVED, Alert, Event, HealthChange, ItemHour, Metric, MetricHour, Token, Upload, utcnow


@dataclass(frozen=True)
class Retention:
    raw_metrics_days: int = 7  # each metrics message
    hourly_days: int = 400  # hourly sums: a year's charts and station figures
    events_days: int = 180  # events and part changes
    alerts_days: int = 400  # resolved alerts
    uploads_days: int = 90

    def __post_init__(self) -> None:
        if min(self.__dict__.values()) < 1:
            raise ValueError("retention periods are at least one day")


def purge(db: Database, retention: Retention = Retention(), now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than its period; returns rows deleted per table."""
    now = now or utcnow()

    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    statements = {
        "metrics": delete(Metric).where(Metric.ts < before(retention.raw_metrics_days)),
        "metric_hours": delete(MetricHour).where(MetricHour.hour < before(retention.hourly_days)),
        "item_hours": delete(ItemHour).where(ItemHour.hour < before(retention.hourly_days)),
        "events": delete(Event).where(Event.ts < before(retention.events_days)),
        "health_changes": delete(HealthChange).where(HealthChange.ts < before(retention.events_days)),
        "alerts": delete(Alert).where(Alert.state == ALERT_RESOLVED, Alert.resolved_at < before(retention.alerts_days)),
        "uploads": delete(Upload).where(Upload.created_at < before(retention.uploads_days)),
        "tokens": delete(Token).where(Token.expires_at < now),
    }
    deleted = {}
    for table, statement in statements.items():
        with db.session(write=True) as session:
            deleted[table] = session.execute(statement).rowcount
    return deleted
