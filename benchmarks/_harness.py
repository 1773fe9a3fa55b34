"""Timing, memory and comparison machinery shared by every benchmark.

Timing
    ``time.perf_counter`` around one call; ``warmup`` untimed calls first, then
    ``repeat`` timed calls, each after ``gc.collect()``. The reported time is the
    median. The project's code and its baseline are timed in the same process,
    one after the other, on the same inputs, so their ratio is meaningful on a
    noisy shared machine even when absolute times drift.

Peak memory
    One extra, untimed call of the project's code under :mod:`tracemalloc`
    (``reset_peak`` before, ``get_traced_memory()[1]`` after). numpy registers
    its data buffers with tracemalloc, so this counts Python objects plus every
    numpy/pandas array allocated during the call (inputs that already exist are
    not counted). It does **not** see memory allocated inside DuckDB, Arrow or
    BLAS (C/C++ allocators); the store and end-to-end benchmarks therefore
    under-report. tracemalloc slows Python-heavy code down, which is why the
    measurement is a separate call and never part of a timing.

Load runs
    The API benchmarks (``bench_api``) time requests, not calls: their rows carry
    ``latency`` and ``baseline_latency`` (p50/p90/p99/max/mean in ms, throughput,
    errors, statuses, cache hit rate); ``time_median`` is the median request
    latency, and the table shows "p50 / p99". Other rows leave both ``None``.

Checks
    :func:`compare_arrays` reports how far the project's output is from the
    baseline's: ``max_rel_err = max |ours - base| / max(|base|, floor)`` over
    cells where both are finite, with ``floor = 1e-3 * median |base|`` (so a
    correlation that happens to be 1e-9 is judged on the scale of the measure,
    not divided by ~0), plus ``max_abs_err`` and ``nan_mismatch`` (cells NaN in
    one and not the other). A check passes when ``nan_mismatch == 0`` and
    ``max_rel_err <= tolerance`` (1e-9 unless the benchmark says otherwise).
"""

from __future__ import annotations

import fnmatch
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA_VERSION = 1

#: Keys every result row of the JSON carries (the smoke test checks them).
RESULT_KEYS = (
    "name",
    "group",
    "size",
    "status",
    "time_median",
    "times",
    "repeats",
    "peak_mb",
    "baseline",
    "baseline_time",
    "baseline_times",
    "ratio",
    "target",
    "met",
    "check",
    "notes",
    "latency",
    "baseline_latency",
)

STATUSES = ("ok", "not_implemented", "skipped", "error")


@dataclass
class Target:
    """What a benchmark must reach; every field left ``None`` is not part of the target.

    Attributes
    ----------
    min_ratio : float
        Baseline time / our time must be at least this (10 = ten times faster;
        0.5 = at most twice as slow).
    max_seconds : float
        Our median must be below this many seconds.
    max_peak_ratio : float
        Our peak traced memory must be below this multiple of ``input_bytes``.
    max_rel_err : float
        The check's ``max_rel_err`` must not exceed this (and no NaN mismatch).
    max_errors : int
        The check's ``errors`` (failed requests of a load run) must not exceed this.
    """

    min_ratio: float | None = None
    max_seconds: float | None = None
    max_peak_ratio: float | None = None
    max_rel_err: float | None = None
    max_errors: int | None = None

    def describe(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f">={self.min_ratio:g}x" if self.min_ratio >= 1 else f"<={1 / self.min_ratio:g}x base")
        if self.max_seconds is not None:
            parts.append(f"<{self.max_seconds:g} s")
        if self.max_peak_ratio is not None:
            parts.append(f"peak<{self.max_peak_ratio:g}x in")
        if self.max_rel_err is not None:
            parts.append(f"err<={self.max_rel_err:g}")
        if self.max_errors is not None:
            parts.append(f"{self.max_errors} errors" if self.max_errors == 0 else f"<={self.max_errors} errors")
        return ", ".join(parts) or "-"


@dataclass
class Result:
    """One row of the results table / JSON (see :data:`RESULT_KEYS`)."""

    name: str
    group: str
    size: str
    status: str = "ok"
    time_median: float | None = None
    times: list[float] = field(default_factory=list)
    repeats: int = 0
    peak_mb: float | None = None
    baseline: str | None = None
    baseline_time: float | None = None
    baseline_times: list[float] = field(default_factory=list)
    ratio: float | None = None
    target: str = "-"
    met: bool | None = None
    check: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    latency: dict[str, Any] | None = None
    baseline_latency: dict[str, Any] | None = None

    def evaluate(self, target: Target | None, input_bytes: int | None = None) -> None:
        """Fill ``ratio``, ``target`` and ``met`` from the timings, memory and check."""
        if self.time_median is not None and self.baseline_time is not None and self.time_median > 0:
            self.ratio = self.baseline_time / self.time_median
        if target is None:
            return
        self.target = target.describe()
        if self.status != "ok":
            self.met = None
            return
        ok = True
        if target.min_ratio is not None:
            ok &= self.ratio is not None and self.ratio >= target.min_ratio
        if target.max_seconds is not None:
            ok &= self.time_median is not None and self.time_median < target.max_seconds
        if target.max_peak_ratio is not None:
            if self.peak_mb is None or not input_bytes:
                ok = False
            else:
                ratio = self.peak_mb * 2**20 / input_bytes
                self.check = {**(self.check or {}), "peak_over_input": round(ratio, 3)}
                ok &= ratio < target.max_peak_ratio
        if target.max_rel_err is not None:
            chk = self.check or {}
            err = chk.get("max_rel_err")
            ok &= err is not None and err <= target.max_rel_err and chk.get("nan_mismatch", 0) == 0
        if target.max_errors is not None:
            errors = (self.check or {}).get("errors")
            ok &= errors is not None and errors <= target.max_errors
        self.met = bool(ok)


def compare_arrays(ours: Any, base: Any, *, tolerance: float = 1e-9) -> dict[str, Any]:
    """Agreement of two equally shaped numeric arrays (see the module notes for the metric)."""
    a = np.asarray(getattr(ours, "to_numpy", lambda: ours)(), dtype=np.float64)
    b = np.asarray(getattr(base, "to_numpy", lambda: base)(), dtype=np.float64)
    if a.shape != b.shape:
        return {"shape_mismatch": [list(a.shape), list(b.shape)], "max_rel_err": math.inf, "passed": False}
    fa, fb = np.isfinite(a), np.isfinite(b)
    both = fa & fb
    nan_mismatch = int(np.count_nonzero(fa != fb))
    if not both.any():
        return {"cells": 0, "nan_mismatch": nan_mismatch, "max_abs_err": None, "max_rel_err": 0.0,
                "passed": nan_mismatch == 0}
    av, bv = a[both], b[both]
    diff = np.abs(av - bv)
    mag = np.abs(bv)
    floor = 1e-3 * float(np.median(mag)) or 1e-300
    rel = diff / np.maximum(mag, floor)
    out = {
        "cells": int(both.sum()),
        "nan_mismatch": nan_mismatch,
        "max_abs_err": float(diff.max()),
        "max_rel_err": float(rel.max()),
        "rel_floor": floor,
        "tolerance": tolerance,
    }
    out["passed"] = bool(nan_mismatch == 0 and out["max_rel_err"] <= tolerance)
    return out


def merge_checks(*checks: dict[str, Any]) -> dict[str, Any]:
    """Worst case over several output checks (e.g. RS-Ratio and RS-Momentum)."""
    checks = tuple(c for c in checks if c)
    if not checks:
        return {}
    out = {
        "cells": sum(c.get("cells", 0) for c in checks),
        "nan_mismatch": sum(c.get("nan_mismatch", 0) for c in checks),
        "max_abs_err": max((c.get("max_abs_err") or 0.0) for c in checks),
        "max_rel_err": max((c.get("max_rel_err") or 0.0) for c in checks),
        "tolerance": min(c.get("tolerance", 1e-9) for c in checks),
    }
    out["passed"] = all(c.get("passed", False) for c in checks)
    return out


@dataclass
class Context:
    """What a benchmark function gets: the profile's sizes, repeat counts and helpers.

    Attributes
    ----------
    profile : str
        ``full`` (the issue's sizes), ``quick`` (a smoke run of about a minute) or
        ``tiny`` (the test suite's run, a few seconds).
    repeat : int
        Timed calls per measurement (after one warm-up).
    cache_dir : Path
        Where generated stores and files are kept between runs.
    only : list of str
        Patterns (fnmatch) on group or case names; empty means all.
    log : callable
        Progress messages (stderr).
    cprofile : bool
        Heavy cases add a cProfile summary of the project's call to their notes.
    """

    profile: str
    repeat: int
    cache_dir: Path
    only: list[str] = field(default_factory=list)
    log: Callable[[str], None] = lambda _m: None
    cprofile: bool = False
    results: list[Result] = field(default_factory=list)

    def wants(self, name: str) -> bool:
        """Whether case ``name`` (``group.case``) is selected by ``--only``."""
        if not self.only:
            return True
        group = name.split(".", 1)[0]
        return any(
            fnmatch.fnmatch(name, p) or fnmatch.fnmatch(group, p) or name.startswith(p + ".") for p in self.only
        )

    # -- measuring ---------------------------------------------------------------------
    @staticmethod
    def time(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> tuple[list[float], Any]:
        """Median-ready timings of ``fn``: ``warmup`` untimed calls, then ``repeat`` timed ones.

        Returns the list of times (seconds) and the last call's output.
        """
        out = None
        for _ in range(warmup):
            out = fn()
            out = None
        times = []
        for _ in range(max(1, repeat)):
            out = None
            gc.collect()
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return times, out

    @staticmethod
    def peak_mb(fn: Callable[[], Any]) -> float:
        """Peak traced memory (MiB) of one call of ``fn`` (see the module notes)."""
        gc.collect()
        started = tracemalloc.is_tracing()
        if not started:
            tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        try:
            out = fn()
            peak = tracemalloc.get_traced_memory()[1]
            del out
        finally:
            if not started:
                tracemalloc.stop()
        return max(0.0, (peak - base) / 2**20)

    def compare(
        self,
        name: str,
        size: str,
        ours: Callable[[], Any],
        *,
        baseline: Callable[[], Any] | None = None,
        baseline_label: str | None = None,
        check: Callable[[Any, Any], dict[str, Any]] | None = None,
        target: Target | None = None,
        input_bytes: int | None = None,
        repeat: int | None = None,
        baseline_repeat: int | None = None,
        warmup: int = 1,
        baseline_warmup: int | None = None,
        memory: bool = True,
        memory_fn: Callable[[], Any] | None = None,
        notes: list[str] | None = None,
    ) -> Result | None:
        """Time ``ours`` and ``baseline`` side by side, check and record one result.

        Returns the :class:`Result` (also appended to :attr:`results`), or
        ``None`` when ``--only`` deselects ``name``. An exception in either
        function is recorded as status ``error`` with its message; it does not
        stop the suite. ``memory_fn`` replaces ``ours`` for the memory run (e.g.
        without the extra outputs kept only for the check).
        """
        if not self.wants(name):
            return None
        group = name.split(".", 1)[0]
        res = Result(name=name, group=group, size=size, baseline=baseline_label, notes=list(notes or []))
        rep = repeat or self.repeat
        self.log(f"{name} [{size}]: ours x{rep}")
        try:
            res.times, out_ours = self.time(ours, rep, warmup)
            res.time_median = statistics.median(res.times)
            res.repeats = len(res.times)
            out_base = None
            if baseline is not None:
                brep = baseline_repeat or rep
                bw = warmup if baseline_warmup is None else baseline_warmup
                self.log(f"{name} [{size}]: baseline x{brep}")
                res.baseline_times, out_base = self.time(baseline, brep, bw)
                res.baseline_time = statistics.median(res.baseline_times)
                if brep != rep or bw != warmup:
                    res.notes.append(f"baseline timed {brep}x after {bw} warm-up call(s)")
            if check is not None:
                res.check = check(out_ours, out_base)
            del out_ours, out_base
            if memory:
                self.log(f"{name} [{size}]: peak memory")
                res.peak_mb = self.peak_mb(memory_fn or ours)
        except Exception as exc:  # recorded, never fatal: the table must show every benchmark
            res.status = "error"
            res.notes.append(f"{type(exc).__name__}: {exc}")
        res.evaluate(target, input_bytes)
        self.results.append(res)
        return res

    @staticmethod
    def profile_note(fn: Callable[[], Any], top: int = 6, package: str = "rotation") -> str:
        """One line: the ``top`` functions of ``package`` by cumulative time in a cProfile of ``fn()``."""
        import cProfile
        import pstats

        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        try:
            fn()
        finally:
            prof.disable()
        wall = time.perf_counter() - t0
        rows = []
        entries = pstats.Stats(prof).stats.items()  # type: ignore[attr-defined]
        for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in entries:
            path = Path(file)
            if package in path.parts and not func.startswith("<"):
                rows.append((ct, f"{path.parent.name}/{path.name}:{func}"))
        rows.sort(reverse=True)
        # the entry point itself is first; show what it spends its time in
        listed = ", ".join(f"{name} {ct:.1f}s" for ct, name in rows[1 : 1 + top])
        head = rows[0][1] if rows else "?"
        return f"cProfile of {head} (wall {wall:.1f} s under the profiler), cumulative: {listed}"

    def record(self, result: Result, target: Target | None = None, input_bytes: int | None = None) -> Result | None:
        """Record a result built by the benchmark itself (aggregates, stages, not-implemented rows)."""
        if not self.wants(result.name):
            return None
        result.evaluate(target, input_bytes)
        self.results.append(result)
        return result

    def not_implemented(self, name: str, size: str, target: Target | str, why: str) -> Result | None:
        """Register a benchmark whose code does not exist yet, so it shows in the table."""
        res = Result(name=name, group=name.split(".", 1)[0], size=size, status="not_implemented", notes=[why])
        res.target = target if isinstance(target, str) else target.describe()
        return self.record(res)


# --------------------------------------------------------------------------- machine & JSON
def machine_info() -> dict[str, Any]:
    """CPU, memory and library versions of the machine the suite ran on."""
    import duckdb
    import pandas as pd

    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "duckdb": duckdb.__version__,
    }
    try:
        import pyarrow

        info["pyarrow"] = pyarrow.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        pass
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted(
            {f"{i.get('internal_api')} {i.get('version')} x{i.get('num_threads')}"
             for i in threadpool_info() if i.get("user_api") == "blas"}
        )
    except ImportError:  # pragma: no cover
        pass
    return info


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, results: list[Result], *, profile: str, argv: list[str], seconds: float) -> dict[str, Any]:
    """Write the results file (atomically) and return its content."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "profile": profile,
        "command": "python -m benchmarks " + " ".join(argv),
        "suite_seconds": round(seconds, 2),
        "machine": machine_info(),
        "results": [_clean(asdict(r)) for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return doc


# --------------------------------------------------------------------------- table
def _fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.0f} us"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def _fmt_cell(t: float | None, latency: dict[str, Any] | None) -> str:
    """A time, or "p50 / p99" for a load run (the latencies of its requests)."""
    if latency:
        return f"{_fmt_time(latency['p50_ms'] / 1e3)} / {_fmt_time(latency['p99_ms'] / 1e3)}"
    return _fmt_time(t)


def render_table(results: list[Result], machine: dict[str, Any] | None = None) -> Any:
    """A :class:`rich.table.Table` of the results."""
    from rich.table import Table

    title = "rotation benchmarks"
    if machine:
        title += f" - {machine.get('cpu_count')} CPU, {machine.get('memory_gb')} GB, python {machine.get('python')}"
    table = Table(title=title, title_justify="left")
    for col, kw in (
        ("benchmark", {}),
        ("size", {}),
        ("ours", {"justify": "right"}),
        ("baseline", {"justify": "right"}),
        ("ratio", {"justify": "right"}),
        ("peak MB", {"justify": "right"}),
        ("max rel err", {"justify": "right"}),
        ("target", {}),
        ("met?", {"justify": "center"}),
    ):
        table.add_column(col, **kw)
    for r in results:
        if r.status == "ok":
            met = "-" if r.met is None else ("[green]yes[/]" if r.met else "[red]no[/]")
        else:
            met = {"not_implemented": "[yellow]n/i[/]", "skipped": "[yellow]skip[/]",
                   "error": "[red]error[/]"}[r.status]
        err = r.check.get("max_rel_err") if r.check else None
        table.add_row(
            r.name,
            r.size,
            _fmt_cell(r.time_median, r.latency) if r.status == "ok" else r.status.replace("_", " "),
            _fmt_cell(r.baseline_time, r.baseline_latency),
            "-" if r.ratio is None else f"{r.ratio:.1f}x" if r.ratio >= 1 else f"{r.ratio:.2f}x",
            "-" if r.peak_mb is None else f"{r.peak_mb:,.0f}",
            "-" if err is None else f"{err:.1e}",
            r.target,
            met,
        )
    return table


def markdown_table(results: list[Result]) -> str:
    """The results as a GitHub-flavoured Markdown table (for the README)."""
    head = "| benchmark | size | ours | baseline | ratio | peak MB | max rel err | target | met? |"
    lines = [head, "|" + "---|" * 9]
    for r in results:
        err = r.check.get("max_rel_err") if r.check else None
        met = {True: "yes", False: "**no**", None: "-"}[r.met] if r.status == "ok" else r.status.replace("_", " ")
        lines.append(
            "| " + " | ".join([
                f"`{r.name}`",
                r.size,
                _fmt_cell(r.time_median, r.latency) if r.status == "ok" else r.status.replace("_", " "),
                _fmt_cell(r.baseline_time, r.baseline_latency),
                "-" if r.ratio is None else f"{r.ratio:.1f}x" if r.ratio >= 1 else f"{r.ratio:.2f}x",
                "-" if r.peak_mb is None else f"{r.peak_mb:,.0f}",
                "-" if err is None else f"{err:.1e}",
                r.target,
                met,
            ]) + " |"
        )
    return "\n".join(lines)


def stderr_log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
