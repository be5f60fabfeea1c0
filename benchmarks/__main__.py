"""`python -m benchmarks [name ...]`: run every benchmark (or the named ones, or `all`);
`list` names them.

A benchmark is a module in this package with a plain (not async) `main(argv)` or
`run(argv)`; the exit code
is the worst of theirs.
"""

from __future__ import annotations

import importlib
import inspect
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
    names = discover()
    if argv and argv[0] in ("-h", "--help", "list"):
        print("Benchmarks (python -m benchmarks [NAME ...]; python -m benchmarks.NAME --help):")
        for name in names:
            module = importlib.import_module(f"benchmarks.{name}")
            summary = (module.__doc__ or "").strip().splitlines()[0]
            print(f"  {name:<20} {summary}")
        return 0
    argv = [] if argv == ["all"] else argv  # `make benchmark`
    unknown = [name for name in argv if name not in names]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; try: {', '.join(names)}", file=sys.stderr)
        return 2
    worst = 0
    for name in argv or names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        sys.argv = [f"python -m benchmarks.{name}"]  # each runs with its own defaults
        entry = next(
            function
            for function in (getattr(module, "main", None), getattr(module, "run", None))
            if function is not None and not inspect.iscoroutinefunction(function)
        )
        worst = max(worst, int(entry([]) or 0))  # each parses its own options: none here
    return worst


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
