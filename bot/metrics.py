"""What the bot counts for monitoring, in the Prometheus text format (`GET /metrics`, see
bot/health.py). One registry of the bot's own, so nothing else in the process shows up.

Counters only ever go up; a test compares before and after. Outbox rows by status are read
from the database when the metrics are asked for, so they are the truth, not a tally."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES_HANDLED = Counter(
    "tmm_updates_handled_total", "Updates from people handled", ["platform"], registry=REGISTRY
)
HANDLER_SECONDS = Histogram(
    "tmm_handler_seconds",
    "Time from an update's handling to its replies being sent",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
OUTBOX_ROWS = Gauge(
    "tmm_outbox_rows",
    "Outbox rows by status and platform",
    ["status", "platform"],
    registry=REGISTRY,
)
SEND_OUTCOMES = Counter(
    "tmm_sends_total",
    "Tries to send a message, by outcome (sent, postponed = the platform's 429, blocked, ...)",
    ["platform", "outcome"],
    registry=REGISTRY,
)
REMINDERS_FIRED = Counter(
    "tmm_reminders_fired_total", "Reminders handed to the outbox", registry=REGISTRY
)
SCHEDULER_LAG = Gauge(
    "tmm_scheduler_lag_seconds",
    "How late the event jobs' last run started after the work it found was due",
    registry=REGISTRY,
)
SCHEDULER_LAST_RUN = Gauge(
    "tmm_scheduler_last_run_timestamp_seconds",
    "When the event jobs last finished a run (Unix time)",
    registry=REGISTRY,
)
