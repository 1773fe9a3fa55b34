"""End to end (issue 7, benchmark 5): ``rotation report`` on a warm store.

Store
    Full profile: every file of ``../shared/data`` imported with
    ``tests/shared_data_imports.py::import_shared_data`` (as the real-data tests
    do), cached in ``<cache>/shared-<key>.duckdb``; the key hashes the data
    files' names, sizes and times, the import code and the store schema, so
    the cache rebuilds when any of them changes. Without the data (or in the
    quick/tiny profiles) a generated store of the default universe's
    instruments is used instead (seeded prices, crypto on every day, the rest
    on NYSE sessions) and the size column says so.

``e2e.report``
    ``rotation report --store <cache> -o <tmp>.html`` as a user runs it: a new
    Python process each time (imports included), store opened read-only.
``e2e.report.inprocess``
    ``rotation.report.build_report`` (every section, the claims ledger, the
    rendering) plus writing the HTML, in a warm process; one ``e2e.stage.<name>``
    row per stage of the report's own timings (panel, relative rotation, ...,
    claims ledger, render), medians over the timed calls, recorded whenever the
    in-process case runs (``--only e2e.report.inprocess`` included). A stage run
    inside another (``provenance: quality checks`` inside ``provenance``) is part
    of that stage's time; its notes say so. The per-stage table (wall and CPU
    seconds, share of the report) is also printed to the log. The quick and tiny
    profiles make no warm-up and no memory run here (a report costs seconds);
    the tiny one (the test suite's) also skips the CLI run.
``e2e.claims``
    The claims ledger alone: ``rotation.claims.evaluate_claims(store, universe)``
    in a warm process, every registered claim with the shipped configuration
    (reported as not implemented while ``rotation.claims`` does not exist).
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._harness import Context, Result, Target

REPO = Path(__file__).resolve().parents[1]
REPORT_TARGET = Target(max_seconds=5.0)
CLAIMS_TARGET = Target(max_seconds=3.0)
SYNTH_DAYS = {"full": 2500, "quick": 750, "tiny": 250}
DATA_VERSION = 1


def shared_data_dir() -> Path:
    return Path(os.environ.get("ROTATION_SHARED_DATA") or REPO.parent / "shared" / "data")


def _shared_key(data_dir: Path) -> str:
    from rotation.store import SCHEMA_VERSION

    h = hashlib.sha256(f"schema={SCHEMA_VERSION}".encode())
    for f in sorted(data_dir.rglob("*")):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.relative_to(data_dir)}:{st.st_size}:{int(st.st_mtime)}".encode())
    src = REPO / "src" / "rotation"
    for p in (REPO / "tests" / "shared_data_imports.py", src / "store" / "_duckdb.py",
              src / "store" / "_import.py", src / "sources" / "files.py"):
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _locked_build(path: Path, build, log) -> Path:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            if not path.exists():
                tmp = path.with_suffix(".building")
                tmp.unlink(missing_ok=True)
                Path(str(tmp) + ".wal").unlink(missing_ok=True)
                t0 = time.perf_counter()
                build(tmp)
                tmp.rename(path)
                log(f"e2e: built {path.name} in {time.perf_counter() - t0:.1f} s (cached)")
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return path


def shared_store(ctx: Context) -> Path | None:
    """The cached store of ../shared/data, or None when the data or the import code is absent."""
    data = shared_data_dir()
    if not (data / "SOURCES.md").exists() or not (REPO / "tests" / "shared_data_imports.py").exists():
        return None

    def build(tmp: Path) -> None:
        sys.path.insert(0, str(REPO / "tests"))
        try:
            from shared_data_imports import import_shared_data
        finally:
            sys.path.remove(str(REPO / "tests"))
        from rotation.store import Store

        ctx.log("e2e: importing ../shared/data into the benchmark cache (once)")
        with Store(tmp) as st:
            import_shared_data(st, data)

    return _locked_build(ctx.cache_dir / f"shared-{_shared_key(data)}.duckdb", build, ctx.log)


def synthetic_store(ctx: Context, n_days: int) -> Path:
    """A generated store of the default universe's instruments (crypto daily, the rest on sessions)."""
    from rotation.universe import load_universe

    universe = load_universe()
    key = hashlib.sha256(repr(sorted((i.symbol, i.asset_class) for i in universe.instruments.values())).encode())
    name = f"universe-{n_days}d-{key.hexdigest()[:10]}-v{DATA_VERSION}.duckdb"

    def build(tmp: Path) -> None:
        from rotation.panel import sessions
        from rotation.store import Store, register_universe
        from rotation.universe._model import DAILY_CLASSES

        sess = sessions("2000-01-01", "2025-12-31")[-n_days:]
        days = pd.date_range(sess[0], sess[-1], freq="D")
        rng = np.random.default_rng(17)
        frames = []
        for inst in universe.instruments.values():
            idx = days if inst.asset_class in DAILY_CLASSES else sess
            vol = 0.04 if inst.asset_class == "crypto" else 0.0005 if inst.asset_class == "stablecoin" else 0.02
            px = rng.uniform(10, 500) * np.exp(np.cumsum(rng.normal(2e-4, vol, len(idx))))
            frame = pd.DataFrame({"symbol": inst.symbol, "date": idx, "close": px, "adj_close": px,
                                  "volume": rng.uniform(1e5, 1e7, len(idx))})
            if inst.asset_class in DAILY_CLASSES:
                frame["market_cap"] = px * rng.uniform(1e7, 1e9)
            frames.append(frame)
        with Store(tmp) as st:
            register_universe(st, universe)
            st.write_observations(pd.concat(frames, ignore_index=True), source="bench")

    return _locked_build(ctx.cache_dir / name, build, ctx.log)


def _warmup(ctx: Context) -> int:
    """One warm-up call in the full profile; none in the quick/tiny smoke runs (a report costs seconds)."""
    return 1 if ctx.profile == "full" else 0


def _cli_command() -> list[str]:
    script = Path(sys.executable).parent / "rotation"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from rotation.cli import main; main()"]


def run(ctx: Context) -> None:
    names = ("e2e.report", "e2e.report.inprocess", "e2e.claims")
    if not any(ctx.wants(n) for n in names):
        return
    path = shared_store(ctx) if ctx.profile == "full" else None
    if path is not None:
        size = "../shared/data, default universe"
    else:
        n = SYNTH_DAYS[ctx.profile]
        path = synthetic_store(ctx, n)
        size = f"generated default universe, {n} sessions"
        if ctx.profile == "full":
            size += " (shared data absent)"

    with tempfile.TemporaryDirectory(prefix="rotation-bench-") as tmpdir:
        out_html = Path(tmpdir) / "report.html"
        env = {**os.environ, "ROTATION_HOME": tmpdir}
        env.pop("ROTATION_STORE", None)
        env.pop("ROTATION_UNIVERSE", None)

        def cli():
            proc = subprocess.run(
                [*_cli_command(), "report", "--store", str(path), "--output", str(out_html)],
                env=env, capture_output=True, text=True, timeout=600,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"rotation report exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
            return out_html.stat().st_size

        if ctx.profile == "tiny":
            # the test suite's run: one report (in process below) is enough to show the code path works
            ctx.record(Result(name="e2e.report", group="e2e", size=size, status="skipped",
                              notes=["tiny profile: the CLI run is left out to keep the smoke test short "
                                     "(run --quick or the full suite)"]), REPORT_TARGET)
        else:
            # no warm-up call: each call is a new process anyway, and the store file and the compiled
            # modules are already cached by the groups that ran before (a full report costs 10-20 s)
            ctx.compare(
                "e2e.report", size, cli, target=REPORT_TARGET, memory=False, warmup=0,
                check=lambda o, _b: {"html_bytes": int(o), "passed": o > 0},
                notes=["`rotation report` in a new process (imports included), warm store opened read-only; "
                       "no warm-up call"],
            )

        if ctx.wants("e2e.report.inprocess"):
            _inprocess(ctx, path, size, out_html)

    if ctx.wants("e2e.claims"):
        _claims(ctx, path, size)


def _slug(name: str) -> str:
    return "_".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split()) or "stage"


def _inprocess(ctx: Context, path: Path, size: str, out_html: Path) -> None:
    """``build_report`` in a warm process; one extra row per stage of its own timings."""
    from rotation.report import build_report
    from rotation.store import Store
    from rotation.universe import load_universe

    universe = load_universe()
    store = Store(path, read_only=True)
    stages: list[list[tuple[str, float, float]]] = []
    parents: dict[str, str | None] = {}

    cpu: list[float] = []

    def inproc():
        c0 = time.process_time()
        report = build_report(store, universe)
        cpu.append(time.process_time() - c0)
        out_html.write_text(report.html, encoding="utf-8")
        # (name, wall seconds[, cpu seconds]) per stage; the tuple has grown before, read it by position
        stages.append([(str(st[0]), float(st[1]), float(st[2]) if len(st) > 2 else float("nan"))
                       for st in report.timings.stages])
        parents.update(getattr(report.timings, "parents", {}))
        return len(report.html)

    try:
        res = ctx.compare(
            "e2e.report.inprocess", size, inproc, target=REPORT_TARGET, warmup=_warmup(ctx),
            memory=ctx.profile == "full",
            check=lambda o, _b: {"html_bytes": int(o), "passed": o > 0},
            notes=["rotation.report.build_report + writing the HTML in a warm process; the e2e.stage.* rows "
                   "are its own per-stage timings (medians over the timed calls)"],
        )
    finally:
        store.close()
    if res is None or res.status != "ok":
        return
    w = _warmup(ctx)
    if cpu[w : w + res.repeats]:
        res.notes.append(f"CPU {statistics.median(cpu[w : w + res.repeats]):.2f} s (median of the timed calls; "
                         "process CPU, all threads)")
    timed = stages[w : w + res.repeats]  # calls: the warm-up(s), the timed ones, then the memory run
    names = list(dict.fromkeys(n for run in timed for n, _, _ in run))
    rows: list[tuple[str, float, float, str | None]] = []
    for name in names:
        vals = [sum(t for n, t, _ in run if n == name) for run in timed]
        cpu = statistics.median([sum(c for n, _, c in run if n == name) for run in timed])
        parent = parents.get(name)
        rows.append((name, statistics.median(vals), cpu, parent))
        note = f"report stage '{name}', CPU {cpu:.2f} s"
        if parent:
            note += f"; runs inside stage '{parent}' (part of that row's time, not added to it)"
        notes = [note]
        result = Result(name=f"e2e.stage.{_slug(name)}", group="e2e", size=size,
                        time_median=statistics.median(vals), times=vals, repeats=len(vals), notes=notes)
        # recorded with the in-process case even under `--only e2e.report.inprocess` (ctx.record would
        # drop rows that --only does not name)
        result.evaluate(None)
        ctx.results.append(result)
    _log_stage_table(ctx, rows, res.time_median)


def _log_stage_table(ctx: Context, rows: list[tuple[str, float, float, str | None]], total: float | None) -> None:
    """Print the per-stage times (wall, CPU, share of the report's median) to the log."""
    top = sum(wall for _, wall, _, parent in rows if not parent)
    ctx.log(f"e2e: report stages (medians; the report took {total:.2f} s, top-level stages add to {top:.2f} s)"
            if total is not None else "e2e: report stages (medians)")
    ctx.log(f"  {'stage':<40} {'wall s':>8} {'CPU s':>8} {'share':>7}")
    for name, wall, cpu, parent in rows:
        label = f"  {name}" if parent else name
        share = f"{wall / total:.0%}" if total else "-"
        ctx.log(f"  {label:<40} {wall:>8.3f} {cpu:>8.3f} {share:>7}" + (f"  (in {parent})" if parent else ""))


def _claims(ctx: Context, path: Path, size: str) -> None:
    import importlib.util

    if importlib.util.find_spec("rotation.claims") is None:
        ctx.not_implemented("e2e.claims", size, CLAIMS_TARGET, "the claims ledger (issue 5) does not exist yet")
        return
    from rotation.claims import evaluate_claims
    from rotation.store import Store
    from rotation.universe import load_universe

    universe = load_universe()
    store = Store(path, read_only=True)
    try:
        def check(ledger, _b):
            return {"claims": len(ledger.entries), "verdicts": len(ledger.verdicts),
                    "pending": len(ledger.pending), "passed": len(ledger.entries) > 0}

        cpu: list[float] = []

        def claims():
            c0 = time.process_time()
            ledger = evaluate_claims(store, universe)
            cpu.append(time.process_time() - c0)
            return ledger

        res = ctx.compare(
            "e2e.claims", size, claims,
            check=check, target=CLAIMS_TARGET, warmup=_warmup(ctx), memory=ctx.profile == "full",
            notes=["evaluate_claims(store, universe) in a warm process: every registered claim (R1-R12) with the "
                   "shipped configuration; claims without code yet return at once as pending"],
        )
        if res is not None and res.status == "ok":
            w = _warmup(ctx)
            timed = cpu[w : w + res.repeats]
            if timed:
                # process CPU (all threads): about the wall time on an idle machine
                res.notes.append(f"CPU {statistics.median(timed):.2f} s (median of the timed calls)")
        if res is not None and res.status == "ok" and ctx.cprofile:
            res.notes.append(ctx.profile_note(lambda: evaluate_claims(store, universe)))
    finally:
        store.close()
