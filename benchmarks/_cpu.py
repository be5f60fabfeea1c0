"""CPU time of other processes, from Linux's /proc: what a benchmark prints to say which
process set the pace (a busy core, not our code, is often what bounds a figure here)."""

from __future__ import annotations

import os
from pathlib import Path


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time (user and system) process `pid` has used so far; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_by_pid(command: str) -> dict[int, float]:
    """CPU time used so far by each live process named `command`."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != command:
                continue
        except OSError:
            continue
        seconds = process_cpu_seconds(int(entry.name))
        if seconds is not None:
            found[int(entry.name)] = seconds
    return found


def cpu_used_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU time used between two `cpu_seconds_by_pid` readings: what each process still there
    used since, and all that one started meanwhile used (one that ended meanwhile is missed,
    so this may say a little less than was used: PostgreSQL's backends come and go)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
