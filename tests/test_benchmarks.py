"""The Telegram benchmark runs end to end, and its baseline stores what the full stack stores;
the reminder benchmark runs, small, and prints each figure next to its baseline.

No timings are asserted here (machines are noisy); the numbers come from
`python -m benchmarks telegram_updates` and `python -m benchmarks reminders`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from benchmarks import (
    broadcast_wire,
    kill_cycles,
    matrix_onboarding,
    reminders,
    reply_latency,
    snap_download,
    telegram_updates,
)
from tests.conftest import BACKENDS, POSTGRES_URL

PEOPLE = 4


def _stored(database: Path) -> dict[str, object]:
    with sqlite3.connect(database) as connection:
        persons = connection.execute(
            "SELECT language, consent, consent_version IS NOT NULL, display_name "
            "FROM persons ORDER BY id"
        ).fetchall()
        identities = connection.execute(
            "SELECT platform, user_id FROM identities ORDER BY user_id"
        ).fetchall()
        consents = connection.execute("SELECT given FROM consent_records").fetchall()
        conversations = connection.execute(
            "SELECT flow, state FROM conversations ORDER BY user_id"
        ).fetchall()
        updates = connection.execute(
            "SELECT count(*) FROM inbox WHERE handled_at IS NOT NULL"
        ).fetchone()
    return {
        "persons": persons,
        "identities": identities,
        "consents": consents,
        "conversations": conversations,
        "updates": updates,
    }


async def test_the_baseline_writes_what_the_full_stack_writes(tmp_path: Path) -> None:
    baseline = await telegram_updates.bare_ptb(
        telegram_updates.make_updates(PEOPLE),
        f"sqlite+aiosqlite:///{tmp_path / 'equivalent_write.db'}",
        2,
        "bare equiv.",
        telegram_updates.equivalent_write,
    )
    full = await telegram_updates.full_stack(
        telegram_updates.make_updates(PEOPLE), f"sqlite+aiosqlite:///{tmp_path / 'full.db'}", 2
    )

    assert baseline.updates == full.updates == 4 * PEOPLE
    by_baseline = _stored(tmp_path / "equivalent_write.db")
    by_full_stack = _stored(tmp_path / "full.db")
    assert by_baseline == by_full_stack
    assert by_full_stack["persons"] == [("en", "given", 1, "Benchmark Person")] * PEOPLE
    assert by_full_stack["conversations"] == [("onboarding", "interests")] * PEOPLE


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_benchmark_runs_and_reports_a_ratio(backend: str) -> None:
    postgres_url = POSTGRES_URL if backend == "postgres" else None
    ratio = await telegram_updates.main(
        people=3, concurrency=2, rounds=1, postgres_url=postgres_url
    )
    assert ratio > 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_snap_download_benchmark_measures_replies_during_a_download(
    backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    postgres_url = POSTGRES_URL if backend == "postgres" else None
    baseline, during = await snap_download.measure(
        people=2, helps=4, download=0.5, rounds=1, postgres_url=postgres_url
    )
    assert len(baseline.latencies) == len(during.latencies) == 4
    assert during.stored  # the photo's file was fetched once the slow download ended
    assert during.download_seconds >= 0.5
    delay = snap_download.report(baseline, during, people=2, rounds=1, backend=backend)
    assert isinstance(delay, float)
    assert "delay: p50" in capsys.readouterr().out


def test_the_reminder_benchmark_runs_and_reports_each_figure_with_its_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        reminders.main(["--burst", "60", "--overdue", "120", "--rounds", "1", "--lead", "0.2"]) == 0
    )
    report = capsys.readouterr().out
    for section in ("(a) one reminder", "(b) 60 reminders", "(c) start-up", "(d) chat steps"):
        assert section in report
    assert report.count("×") >= 7  # every figure next to its baseline, as a ratio
    assert "old job" in report
    assert "floor" in report


async def test_the_kill_cycle_benchmark_runs_two_cycles_and_counts_at_the_platform(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = await kill_cycles.run_cycles(2, 40, seed=3)
    kill_cycles.report(run, 2)
    # what the design guarantees whatever the moment of the kill; the share of rows in
    # doubt depends on that moment, and is the benchmark's figure, not asserted here
    assert run.tally.duplicates == []
    assert run.tally.lost_answers == []
    assert run.tally.lost_replies == []
    assert run.tally.lost_messages == []
    assert run.arrived >= 40
    assert "unknown rows:" in capsys.readouterr().out


async def test_the_broadcast_at_the_wire_benchmark_runs_small_against_its_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await broadcast_wire.run(60, 30, 1, group_queue=3, repeated=2)
    out = capsys.readouterr().out
    assert "tæl mig med (worker)" in out
    assert "PTB + AIORateLimiter" in out
    assert "ours ÷ PTB's" in out


async def test_the_reply_latency_benchmark_measures_replies_during_a_broadcast(
    capsys: pytest.CaptureFixture[str],
) -> None:
    baseline, during = await reply_latency.measure(recipients=120, seconds=2, rate=5)
    reply_latency.report(baseline, during)
    assert len(during.handlers) == len(during.round_trips) == 10
    assert len(during.slot_waits) >= 10
    assert "broadcast while people wrote" in capsys.readouterr().out


def test_the_cards_at_send_benchmark_runs_small_against_its_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks import cards_at_send

    assert cards_at_send.main(["--recipients", "50", "--concurrency", "8"]) == 0
    assert "ratio to the baseline" in capsys.readouterr().out


async def test_the_matrix_onboarding_benchmark_times_every_step_of_both_bots() -> None:
    ours, baseline = await matrix_onboarding.measure(2, encrypted=False, rate=1000)
    assert len(ours) >= 2 * 10  # every step of both people, each answered
    assert len(baseline) == len(ours)
    assert all(seconds > 0 for seconds in ours + baseline)
