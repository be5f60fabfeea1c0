"""`python -m benchmarks [name ...]`: run every benchmark (or the named ones); `list` names them.

A benchmark is a module in this package with `run(argv)` or `main() -> int`; the exit code
is the worst of theirs.
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
    names = discover()
    if argv and argv[0] in ("-h", "--help", "list"):
        print("Benchmarks (python -m benchmarks [NAME ...]; python -m benchmarks.NAME --help):")
        for name in names:
            module = importlib.import_module(f"benchmarks.{name}")
            summary = (module.__doc__ or "").strip().splitlines()[0]
            print(f"  {name:<20} {summary}")
        return 0
    unknown = [name for name in argv if name not in names]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; try: {', '.join(names)}", file=sys.stderr)
        return 2
    worst = 0
    for name in argv or names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        sys.argv = [f"python -m benchmarks.{name}"]  # each runs with its own defaults
        if hasattr(module, "run"):  # run(argv): parses its own options
            module.run([])
        else:  # main() -> exit code
            worst = max(worst, int(module.main() or 0))
    return worst


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
