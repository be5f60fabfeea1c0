"""`python -m benchmarks` lists the benchmarks; `python -m benchmarks NAME [args]` runs one."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    folder = Path(__file__).parent
    return sorted(
        info.name for info in pkgutil.iter_modules([str(folder)]) if not info.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    names = available()
    if not argv or argv[0] in ("-h", "--help", "list"):
        print("Benchmarks (python -m benchmarks NAME [options], or `all`):")
        for name in names:
            module = importlib.import_module(f"benchmarks.{name}")
            summary = (module.__doc__ or "").strip().splitlines()[0]
            print(f"  {name:<20} {summary}")
        return 0
    chosen = names if argv[0] == "all" else [argv[0]]
    for name in chosen:
        if name not in names:
            print(f"unknown benchmark {name!r}; try: {', '.join(names)}", file=sys.stderr)
            return 2
        module = importlib.import_module(f"benchmarks.{name}")
        module.run(argv[1:] if argv[0] != "all" else [])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
