"""rotation's benchmark suite: the project's code timed side by side with a baseline.

Run everything from the repository root::

    python -m benchmarks                 # the issue's sizes (several minutes)
    python -m benchmarks --quick         # small sizes, a smoke run of about a minute
    python -m benchmarks --only rolling --repeat 5
    python -m benchmarks --out /tmp/bench.json

Every benchmark group is a module ``benchmarks/bench_<group>.py`` with a
``run(ctx)`` function that records results through
:class:`benchmarks._harness.Context` (timing, memory, checks). Groups, in the
order they run (issue 7's numbering):

``rolling``   rolling kernels on a 5,000 x 5,000 panel vs pandas ``.rolling()``
``pairwise``  rolling correlation matrices and lead-lag vs pandas
``store``     appending a day to, and building the panel from, a 25M-row store
``events``    event studies vs a per-event NumPy loop
``e2e``       ``rotation report`` end to end, per stage; the claims ledger
``api``       the REST API under load on loopback: cached and uncached request mixes
              (p50/p99 latency, throughput, errors, cache hit rate) vs ``/api/v1/health``

Results: a table on the terminal and a JSON file (default
``benchmarks/results/latest.json``); see :mod:`benchmarks._harness` for how
time, memory and agreement are measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from benchmarks._harness import Context, Result

__all__ = ["GROUPS", "PROFILES", "run_suite"]

#: Group name -> module (imported lazily so one broken group cannot hide the others).
GROUPS: dict[str, str] = {
    "rolling": "benchmarks.bench_rolling",
    "pairwise": "benchmarks.bench_pairwise",
    "store": "benchmarks.bench_store",
    "events": "benchmarks.bench_events",
    "e2e": "benchmarks.bench_e2e",
    "api": "benchmarks.bench_api",
}
PROFILES = ("full", "quick", "tiny")
DEFAULT_CACHE = Path(__file__).resolve().parent / "results" / "cache"


def run_suite(
    *,
    profile: str = "full",
    repeat: int = 3,
    only: list[str] | None = None,
    cache_dir: Path = DEFAULT_CACHE,
    cprofile: bool = False,
    log: Callable[[str], None] = lambda _m: None,
) -> list[Result]:
    """Run the selected benchmark groups and return their results (in run order).

    A group that fails to import or raises outside a measured call is recorded
    as one ``error`` row named ``<group>`` so that it shows in the table.
    """
    import importlib
    import traceback

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    ctx = Context(profile=profile, repeat=repeat, cache_dir=Path(cache_dir), only=list(only or []), log=log,
                  cprofile=cprofile)
    for group, module in GROUPS.items():
        if ctx.only and not any(ctx.wants(f"{group}.x") or p.split(".", 1)[0] == group for p in ctx.only):
            continue
        t0 = time.perf_counter()
        try:
            importlib.import_module(module).run(ctx)
        except Exception as exc:  # a broken group must not hide the rest
            ctx.results.append(Result(name=group, group=group, size="-", status="error",
                                      notes=[f"{type(exc).__name__}: {exc}",
                                             traceback.format_exc(limit=3).strip().splitlines()[-1]]))
        log(f"{group}: done in {time.perf_counter() - t0:.1f} s")
    return ctx.results
