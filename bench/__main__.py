"""Run the benchmarks: ``python -m bench [NAME ...] [--size tiny|small|full]``.

``tiny`` is the size CI affords (only the benchmarks that have it: ``service``).

A benchmark writes no control plane or secrets where it is run from: unless
``$CROSSWALK_CONTROL`` and ``$CROSSWALK_SECRETS`` are set, both go to a temporary folder
that is removed at the end."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import tempfile
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
    with tempfile.TemporaryDirectory(prefix="crosswalk-bench-planes-") as planes:
        os.environ.setdefault("CROSSWALK_CONTROL", f"sqlite:///{planes}/control.db")
        os.environ.setdefault("CROSSWALK_SECRETS", f"{planes}/secrets")
        for name in args.names or found:
            module = importlib.import_module(f"bench.bench_{name}")
            print(f"== bench {name} ({args.size})", flush=True)
            module.main(size=args.size)


if __name__ == "__main__":
    main()
