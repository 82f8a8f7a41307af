"""Baseline: the schema as ``create_all`` made it before there were revisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 14:45:20.530800
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_operator", "audit_log", ["operator"])
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("op", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jobs_issued_at", "jobs", ["issued_at"])

    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )

    op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("township", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_stations_township", "stations", ["township"])

    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_seq", sa.BigInteger(), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("conn", sa.Integer(), nullable=False),
        sa.Column("health_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("health_boot_id", sa.String(length=64), nullable=False),
        sa.Column("health_seq", sa.BigInteger(), nullable=False),
        sa.Column("cpu_pct", sa.Double(), nullable=True),
        sa.Column("mem_used_mb", sa.Double(), nullable=True),
        sa.Column("disk_free_mb", sa.Double(), nullable=True),
        sa.Column("temp_c", sa.Double(), nullable=True),
        sa.Column("uptime_s", sa.Double(), nullable=True),
        sa.Column("net", sa.String(length=64), nullable=False),
        sa.Column("outbox_pending", sa.Integer(), nullable=False),
        sa.Column("outbox_drained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seq_max", sa.BigInteger(), nullable=False),
        sa.Column("seq_received", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
    )
    op.create_index("ix_devices_last_seen", "devices", ["last_seen"])
    op.create_index("ix_devices_state", "devices", ["state"])
    op.create_index("ix_devices_station_id", "devices", ["station_id"])

    op.create_table(
        "job_targets",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("upload_token_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("job_id", "device_id"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_job_targets_device_id", "job_targets", ["device_id"])

    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_tokens_operator_id", "tokens", ["operator_id"])

    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_uploads_created_at", "uploads", ["created_at"])
    op.create_index("ix_uploads_device_id", "uploads", ["device_id"])
    op.create_index("ix_uploads_job_id", "uploads", ["job_id"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_alerts_device_rule", "alerts", ["device_id", "rule", "part", "state"])
    op.create_index("ix_alerts_opened_at", "alerts", ["opened_at"])
    op.create_index("ix_alerts_state", "alerts", ["state"])

    op.create_table(
        "device_groups",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("group", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "group"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_device_groups_group", "device_groups", ["group"])

    op.create_table(
        "device_parts",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "name"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
    )

    op.create_table(
        "events",
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=4096), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "boot_id", "seq", name="uq_events_message"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_events_device_ts", "events", ["device_id", "ts"])
    op.create_index("ix_events_ts", "events", ["ts"])
    op.create_index("ix_events_type", "events", ["type"])

    op.create_table(
        "health_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_health_changes_device_ts", "health_changes", ["device_id", "ts"])

    op.create_table(
        "item_hours",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "hour", "item"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_item_hours_hour", "item_hours", ["hour"])

    op.create_table(
        "metric_hours",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("cases_submitted", sa.Integer(), nullable=False),
        sa.Column("prints", sa.Integer(), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("queue_issued", sa.Integer(), nullable=False),
        sa.Column("queue_called", sa.Integer(), nullable=False),
        sa.Column("wait_s_total", sa.Float(), nullable=False),
        sa.Column("eval_very_satisfied", sa.Integer(), nullable=False),
        sa.Column("eval_satisfied", sa.Integer(), nullable=False),
        sa.Column("eval_basically_satisfied", sa.Integer(), nullable=False),
        sa.Column("eval_dissatisfied", sa.Integer(), nullable=False),
        sa.Column("eval_very_dissatisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "hour"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_metric_hours_hour", "metric_hours", ["hour"])

    op.create_table(
        "metrics",
        sa.Column("window_s", sa.Float(), nullable=False),
        sa.Column("queue_waiting", sa.Integer(), nullable=False),
        sa.Column("outbox_pending", sa.Integer(), nullable=False),
        sa.Column("cases_by_item", sa.JSON(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("cases_submitted", sa.Integer(), nullable=False),
        sa.Column("prints", sa.Integer(), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("queue_issued", sa.Integer(), nullable=False),
        sa.Column("queue_called", sa.Integer(), nullable=False),
        sa.Column("wait_s_total", sa.Float(), nullable=False),
        sa.Column("eval_very_satisfied", sa.Integer(), nullable=False),
        sa.Column("eval_satisfied", sa.Integer(), nullable=False),
        sa.Column("eval_basically_satisfied", sa.Integer(), nullable=False),
        sa.Column("eval_dissatisfied", sa.Integer(), nullable=False),
        sa.Column("eval_very_dissatisfied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "boot_id", "seq", name="uq_metrics_message"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_metrics_device_ts", "metrics", ["device_id", "ts"])
    op.create_index("ix_metrics_ts", "metrics", ["ts"])


def downgrade() -> None:
    op.drop_table("metrics")
    op.drop_table("metric_hours")
    op.drop_table("item_hours")
    op.drop_table("health_changes")
    op.drop_table("events")
    op.drop_table("device_parts")
    op.drop_table("device_groups")
    op.drop_table("alerts")
    op.drop_table("uploads")
    op.drop_table("tokens")
    op.drop_table("job_targets")
    op.drop_table("devices")
    op.drop_table("stations")
    op.drop_table("operators")
    op.drop_table("jobs")
    op.drop_table("audit_log")
