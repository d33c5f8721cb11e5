"""Benchmarks: ``make bench`` runs every ``bench/bench_*.py`` module's ``main()``.

Each module measures a target from the issues against a baseline run in the same process,
prints medians and ratios, and appends its figures (with the machine and command) to
``bench/results/`` so they can be copied into docs/benchmarks.md.
"""
