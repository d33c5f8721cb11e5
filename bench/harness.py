"""Shared benchmark helpers: run a function in a child process, time it, measure peak RSS."""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any


def peak_rss() -> int:
    """This process's peak resident memory in bytes.

    Read from /proc (VmHWM, the high-water mark of this process's own address space):
    ``getrusage``'s ru_maxrss keeps the parent's peak across fork and exec, so a child
    started by a parent that had built a large state would report the parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(fn: Callable[..., Any], args: tuple, queue: Any) -> None:
    start = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - start
    queue.put((elapsed, peak_rss(), result))


def measure(fn: Callable[..., Any], *args: Any) -> tuple[float, int, Any]:
    """Run ``fn(*args)`` in a fresh process; return (seconds, peak RSS bytes, result)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    while True:
        try:
            out = queue.get(timeout=2)
            break
        except Empty:
            if not proc.is_alive():
                raise RuntimeError(
                    f"benchmark process for {fn.__name__} died (exit {proc.exitcode})"
                ) from None
    proc.join()
    return out


def median_runs(fn: Callable[..., Any], *args: Any, repeat: int = 3) -> tuple[float, int, Any]:
    runs = [measure(fn, *args) for _ in range(repeat)]
    return (
        statistics.median(r[0] for r in runs),
        max(r[1] for r in runs),
        runs[-1][2],
    )


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.python_implementation()} {platform.python_version()}"
