"""Start-up: `crosswalk --help`, `crosswalk version` and other commands' `--help`, wall clock.

Each command runs as users run it, a fresh ``python -m crosswalk`` process, timed from
start to exit (median of several runs). Baselines, in the same run: a bare interpreter
(``python -c pass``, the floor) and importing every command module with its libraries
(what every command cost before commands were loaded on use).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench.harness import machine

RUNS = {"small": 5, "full": 11}

COMMANDS: dict[str, list[str]] = {
    "crosswalk --help": ["-m", "crosswalk", "--help"],
    "crosswalk version": ["-m", "crosswalk", "version"],
    "crosswalk ingest --help": ["-m", "crosswalk", "ingest", "--help"],
    "crosswalk link --help": ["-m", "crosswalk", "link", "--help"],
    "crosswalk analyze overlap --help": ["-m", "crosswalk", "analyze", "overlap", "--help"],
    "crosswalk person --help": ["-m", "crosswalk", "person", "--help"],
    "baseline: python -c pass": ["-c", "pass"],
    "baseline: every command module imported": [
        "-c",
        "from crosswalk.cli import full_app; full_app()",
    ],
}


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main(size: str = "full") -> None:
    runs = RUNS[size]
    print(f"machine: {machine()}")
    print(f"| command | median s ({runs} runs) | min s | max s |")
    print("| --- | ---: | ---: | ---: |")
    for name, args in COMMANDS.items():
        wall(args)  # warm the file cache
        times = [wall(args) for _ in range(runs)]
        print(
            f"| `{name}` | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |",
            flush=True,
        )
