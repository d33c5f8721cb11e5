"""The progress bar of long commands (synth, ingest, link, demo): what is being done, with
its counts, how far, for how long, and about how long is left.

The libraries report ``(what, fraction done)``; ``what`` names the step and its counts
("agency records for 426,627 service events"). The bar runs on standard error, so a
command's output on standard output stays clean, and keeps ticking between reports: a
spinner, the time spent in the current step, and the time left extrapolated from the
time so far (it grows honestly while a step stalls).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

Report = Callable[[str, float], None]

# Below this fraction done, or this many seconds, an estimate is noise.
MIN_DONE = 0.02
MIN_SECONDS = 2.0


def clock(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def time_left(elapsed: float, done: float) -> float | None:
    """Seconds left at the pace so far, or None while there is too little to go on."""
    if done >= 1:
        return 0.0
    if done < MIN_DONE or elapsed < MIN_SECONDS:
        return None
    return elapsed * (1 - done) / done


class TimeLeftColumn(ProgressColumn):
    """About how long is left, from the whole run's pace (not the last few seconds')."""

    def render(self, task: Task) -> Text:
        if task.finished:
            return Text("")
        left = time_left(task.elapsed or 0.0, task.percentage / 100)
        if left is None:
            return Text("time left: estimating", style="progress.remaining")
        return Text(f"about {clock(left)} left", style="progress.remaining")


class StepTimeColumn(ProgressColumn):
    """Time in the current step, so a long step visibly goes on."""

    def render(self, task: Task) -> Text:
        started = task.fields.get("step_started")
        if started is None or task.finished:
            return Text("")
        return Text(f"(this step {clock(time.monotonic() - started)})", style="dim")


@contextmanager
def progress_bar(title: str, console: Console | None = None) -> Iterator[Report]:
    """A bar for one long operation; yields the callback to hand to the library."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[title]}:"),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeLeftColumn(),
        StepTimeColumn(),
        console=console or Console(stderr=True),
    ) as bar:
        task = bar.add_task("starting", total=1.0, title=title, step_started=time.monotonic())
        current = ["starting"]

        def report(what: str, done: float) -> None:
            if what != current[0]:
                current[0] = what
                bar.update(task, step_started=time.monotonic())
            bar.update(task, completed=min(max(done, 0.0), 1.0), description=what)

        yield report
