"""The store at scale (issue 7, benchmark 3).

A DuckDB store (``rotation.store.Store`` schema) holding 5,000 instruments x
5,000 NYSE sessions = 25 million observations (full profile) is generated
once with Arrow inserts of 250 instruments at a time (a few million rows per
``INSERT ... SELECT FROM arrow``; no Python row loop) and cached as
``<cache>/store-<N>x<T>-v<k>.duckdb``, with the same rows exported to Parquet
(``COPY ... TO``) next to it. Each instrument has ``close``, ``adj_close`` and
``volume``; 0.1% of the prices are NULL (missing prints, bridged by the
panel's forward fill). Benchmarks work on a copy, so the cache never changes.

``store.append_day``
    ``Store.write_observations`` of one new session for all instruments (each
    timed call appends the next session, so the plain-INSERT path is timed). Baseline: a plain DuckDB
    ``INSERT INTO observations SELECT ... FROM df`` of the same rows (no
    validation, no upsert, no data-version bump) into another copy.
``store.build_panel``
    ``rotation.panel.build_panel(store, universe, symbols=<all 5,000>)``
    (daily sessions, default policy). Baseline: ``pyarrow.parquet.read_table``
    of ``symbol, date, close, adj_close, volume`` (every field the store holds
    and the panel reads) + ``to_pandas(date_as_object=False)`` +
    ``DataFrame.pivot`` of the three value columns into wide frames. The
    prices of both are compared (the baseline's ``adj_close`` forward-filled up
    to 5 rows, as the panel's gap policy does).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._data import symbols
from benchmarks._harness import Context, Target, compare_arrays

SIZES = {"full": (5000, 5000), "quick": (500, 1500), "tiny": (40, 300)}
#: Bump when the generated content changes (invalidates caches).
DATA_VERSION = 1
SOURCE = "bench"
APPEND_TARGET = Target(max_seconds=1.0)
PANEL_TARGET = Target(min_ratio=0.5, max_rel_err=1e-9)
#: The value columns of the generated store (and its Parquet copy).
_VALUE_COLUMNS = ("close", "adj_close", "volume")


def _sessions(n_days: int) -> pd.DatetimeIndex:
    from rotation.panel import sessions

    days = sessions("1995-01-01", "2025-12-31")
    return days[-n_days:]


def build_store(path: Path, n_inst: int, n_days: int, log=lambda _m: None) -> None:
    """Generate the benchmark store at ``path`` (and ``path.with_suffix('.parquet')``)."""
    import duckdb
    import pyarrow as pa

    from rotation.store import Store

    tmp = path.with_suffix(".building")
    for f in (tmp, Path(str(tmp) + ".wal")):
        f.unlink(missing_ok=True)
    syms = symbols(n_inst)
    with Store(tmp) as st:  # the project's schema
        st.upsert_instruments({"symbol": s, "kind": "instrument", "asset_class": "equity", "currency": "USD"}
                              for s in syms)
    days = _sessions(n_days).to_numpy().astype("datetime64[D]")
    rng = np.random.default_rng(42)
    con = duckdb.connect(str(tmp))
    chunk = 250
    try:
        for c0 in range(0, n_inst, chunk):
            n = min(chunk, n_inst - c0)
            r = rng.standard_normal((n_days, n)) * 0.02
            px = 100.0 * np.exp(np.cumsum(r, axis=0))
            px[rng.random(px.shape) < 0.001] = np.nan
            adj = px * rng.uniform(0.5, 1.0, n)
            vol = rng.integers(100_000, 10_000_000, px.shape).astype(np.float64)
            table = pa.table({
                "symbol": pa.array(np.repeat(np.array(syms[c0 : c0 + n], dtype=object), n_days)),
                "source": pa.array(np.full(n * n_days, SOURCE, dtype=object)),
                "date": pa.array(np.tile(days, n)),
                "close": pa.array(px.T.ravel(), from_pandas=True),
                "adj_close": pa.array(adj.T.ravel(), from_pandas=True),
                "volume": pa.array(vol.T.ravel()),
            })
            con.register("chunk_rows", table)
            con.execute("INSERT INTO observations (symbol, source, date, close, adj_close, volume) "
                        "SELECT * FROM chunk_rows")
            con.unregister("chunk_rows")
            log(f"store: {c0 + n:,}/{n_inst:,} instruments written")
        con.execute("CHECKPOINT")
        pq = path.with_suffix(".parquet")
        con.execute(f"COPY (SELECT symbol, date, close, adj_close, volume FROM observations) TO '{pq}' "
                    "(FORMAT parquet)")
    finally:
        con.close()
    tmp.rename(path)


def cached_store(ctx: Context, n_inst: int, n_days: int) -> Path:
    """The cached benchmark store, built under a file lock on first use."""
    import fcntl

    ctx.cache_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.cache_dir / f"store-{n_inst}x{n_days}-v{DATA_VERSION}.duckdb"
    with open(path.with_suffix(".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            if not path.exists() or not path.with_suffix(".parquet").exists():
                t0 = time.perf_counter()
                ctx.log(f"store: building {n_inst:,} x {n_days:,} store at {path} (cached for later runs)")
                build_store(path, n_inst, n_days, ctx.log)
                ctx.log(f"store: built in {time.perf_counter() - t0:.1f} s")
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return path


def _work_copy(src: Path, name: str) -> Path:
    dst = src.parent / f"work-{os.getpid()}-{name}.duckdb"
    shutil.copyfile(src, dst)
    return dst


def _remove(path: Path) -> None:
    for f in (path, Path(str(path) + ".wal")):
        f.unlink(missing_ok=True)


def run(ctx: Context) -> None:
    n_inst, n_days = SIZES[ctx.profile]
    rows = n_inst * n_days
    size = f"{rows / 1e6:g}M rows ({n_inst:,} x {n_days:,})"
    if not (ctx.wants("store.append_day") or ctx.wants("store.build_panel")):
        return
    src = cached_store(ctx, n_inst, n_days)
    syms = symbols(n_inst)
    if ctx.wants("store.append_day"):
        _append(ctx, src, syms, size)
    if ctx.wants("store.build_panel"):
        _panel(ctx, src, syms, size)


def _append(ctx: Context, src: Path, syms: list[str], size: str) -> None:
    import duckdb

    from rotation.panel import sessions
    from rotation.store import Store

    new_days = iter(sessions("2026-01-01", "2026-12-31"))
    base_days = iter(sessions("2026-01-01", "2026-12-31"))
    rng = np.random.default_rng(5)

    def day_frame(day: pd.Timestamp) -> pd.DataFrame:
        return pd.DataFrame({"symbol": syms, "date": day, "close": rng.uniform(10, 200, len(syms)),
                             "adj_close": rng.uniform(10, 200, len(syms)), "volume": 1e6})

    ours_path, base_path = _work_copy(src, "append"), _work_copy(src, "append-base")
    store = Store(ours_path)
    con = duckdb.connect(str(base_path))
    try:
        def ours():
            return store.write_observations(day_frame(next(new_days)), source=SOURCE)

        def base():
            frame = day_frame(next(base_days))
            frame.insert(1, "source", SOURCE)
            con.register("day_rows", frame)
            try:
                con.execute("INSERT INTO observations (symbol, source, date, close, adj_close, volume) "
                            "SELECT symbol, source, date, close, adj_close, volume FROM day_rows")
            finally:
                con.unregister("day_rows")
            return len(frame)

        def check(o, b):
            n = store._query("SELECT count(*) AS n FROM observations")["n"].iloc[0]
            return {"rows_written": int(o), "store_rows_after": int(n), "passed": o == len(syms)}

        ctx.compare(
            "store.append_day", size, ours, baseline=base,
            baseline_label="plain DuckDB INSERT of the same rows",
            check=check, target=APPEND_TARGET, memory=False,
            notes=["each timed call appends the next session for every instrument: every date is after the "
                   "latest stored one, so write_observations takes its plain-INSERT path (a revision of stored "
                   "keys takes the upsert, ~0.5-1 s on 25M rows); the first write after opening also loads the "
                   "table's key index (the warm-up call pays it)"],
        )
    finally:
        store.close()
        con.close()
        _remove(ours_path)
        _remove(base_path)


def _panel(ctx: Context, src: Path, syms: list[str], size: str) -> None:
    import pyarrow.parquet as pq

    from rotation.panel import build_panel
    from rotation.store import Store
    from rotation.universe import load_universe

    universe = load_universe()
    pq_path = src.with_suffix(".parquet")
    store = Store(src, read_only=True)
    heavy = ctx.profile == "full"
    try:
        def ours():
            return build_panel(store, universe, symbols=syms).prices

        def base():
            # Like for like: the fields build_panel reads (close, adj_close, volume; caps, supply and quote
            # volume are NULL in this store), each pivoted to a wide frame.
            table = pq.read_table(pq_path, columns=["symbol", "date", *_VALUE_COLUMNS])
            frame = table.to_pandas(date_as_object=False)
            wide = frame.pivot(index="date", columns="symbol", values=list(_VALUE_COLUMNS))
            return wide["adj_close"]

        def check(o, b):
            b = b.reindex(index=o.index, columns=o.columns).ffill(limit=5)
            return compare_arrays(o, b)

        res = ctx.compare(
            "store.build_panel", size, ours, baseline=base,
            baseline_label="pyarrow read_table + DataFrame.pivot (parquet)",
            check=check, target=PANEL_TARGET,
            repeat=1 if heavy else None, warmup=0 if heavy else 1,
            memory=not heavy,
            notes=["both read close, adj_close and volume for every row; the baseline pivots them into three wide "
                   "frames, build_panel builds prices, close, caps, supply and dollar volume with the source "
                   "splice, non-positive drop, session alignment, 5-row gap fill, carried caps and quality notes"]
            + (["full profile: 1 timed call, no warm-up, no tracemalloc run (build_panel ~4 GB RSS, the "
                "baseline's pivot of three columns 20-30 s)"] if heavy else []),
        )
        if res is not None and res.status == "ok" and ctx.cprofile:
            res.notes.append(ctx.profile_note(lambda: build_panel(store, universe, symbols=syms)))
    finally:
        store.close()


__all__ = ["build_store", "cached_store", "run"]
