"""CPU time of other processes, from Linux's /proc: what a benchmark prints to say which
process set the pace (a busy core, not our code, is often what bounds a figure here)."""

from __future__ import annotations

import os
from pathlib import Path


def process_cpu_seconds(pid: int, *, with_ended_children: bool = False) -> float | None:
    """CPU time (user and system) process `pid` has used so far; None once it is gone.
    `with_ended_children`: and that of its children that have ended (and been waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if with_ended_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds_of(command: str) -> float:
    """CPU time used so far by every process named `command`, with their ended children:
    PostgreSQL's backends come and go with connections, and the postmaster collects what
    an ended one used."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != command:
                continue
        except OSError:
            continue
        total += process_cpu_seconds(int(entry.name), with_ended_children=True) or 0.0
    return total
