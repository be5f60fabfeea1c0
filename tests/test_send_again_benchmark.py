"""The send-again benchmark runs end to end on a small broadcast (its numbers come from
`python -m benchmarks send_again`; no timings are asserted here)."""

from __future__ import annotations

from benchmarks import send_again


async def test_the_benchmark_runs_and_its_copies_keep_the_limit() -> None:
    assert await send_again.run(recipients=60, in_doubt=[6, 60], limit=50, repeats=1) == 0
