"""`python -m benchmarks [name ...]`: run every benchmark module (or the named ones).

A benchmark is a module in this package with a `main() -> int`; the exit code is the
worst of theirs.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(here)])
        if not module.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    names = argv or discover()
    worst = 0
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        sys.argv = [f"python -m benchmarks.{name}"]  # each runs with its own defaults
        worst = max(worst, int(module.main()))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
