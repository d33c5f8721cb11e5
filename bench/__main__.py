"""Run the benchmarks: ``python -m bench [NAME ...] [--size tiny|small|full]``.

``tiny`` is the size CI affords (only the benchmarks that have it: ``service``)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--size", choices=["tiny", "small", "full"], default="full")
    args = parser.parse_args()
    here = Path(__file__).parent
    found = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )
    for name in args.names or found:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== bench {name} ({args.size})", flush=True)
        module.main(size=args.size)


if __name__ == "__main__":
    main()
