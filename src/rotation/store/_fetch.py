"""Incremental, idempotent, transactional fetch of a universe into the store.

For every (instrument or macro series, provider) pair of the universe:

1. ``start`` = the stored last date minus ``overlap_days`` (to pick up
   revisions: vendors restate recent days, FRED revises), or the source's
   default start when nothing is stored, or the caller's ``start``.
2. The source fetches ``[start, end]``.
3. Observations, actions and a ``fetch_log`` row are written in **one
   transaction**. An error or a kill before the commit leaves the store as it
   was; the next run resumes from what was committed. Rows are upserted on
   (symbol, source, date), so running twice stores the same data once.

A failed pair is logged (``status='failed'`` with the error) and the run goes
on with the next pair; the report says what failed and the CLI exits non-zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from rotation.config import Settings
from rotation.errors import ConnectionFailedError, ParameterError, RotationError, SourceError
from rotation.sources import FETCHABLE, Source, make_source
from rotation.store._duckdb import Store
from rotation.universe import Universe

#: Consecutive connection failures (not HTTP errors) after which the run stops
#: trying: the machine is offline, and every remaining job would wait out its retries.
UNREACHABLE_AFTER = 3

__all__ = ["FetchJob", "FetchOutcome", "FetchReport", "fetch", "plan_fetch", "register_universe"]


@dataclass(frozen=True, slots=True)
class FetchJob:
    """One (symbol, provider) download."""

    symbol: str
    provider: str
    provider_symbol: str
    kind: str  # "observations" or "macro"


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    job: FetchJob
    status: str  # ok | empty | failed | skipped
    rows: int = 0
    start: date | None = None
    end: date | None = None
    message: str = ""
    connection_failed: bool = False


@dataclass
class FetchReport:
    """What a fetch run did, one outcome per (symbol, provider)."""

    outcomes: list[FetchOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[FetchOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.outcomes)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "symbol": o.job.symbol,
                    "provider": o.job.provider,
                    "provider_symbol": o.job.provider_symbol,
                    "status": o.status,
                    "rows": o.rows,
                    "start": o.start,
                    "end": o.end,
                    "message": o.message,
                }
                for o in self.outcomes
            ],
            columns=["symbol", "provider", "provider_symbol", "status", "rows", "start", "end", "message"],
        )


def register_universe(store: Store, universe: Universe) -> int:
    """Write the universe's instrument and macro metadata into the store."""
    rows: list[dict[str, object]] = [
        {
            "symbol": i.symbol,
            "kind": "instrument",
            "asset_class": i.asset_class,
            "currency": i.currency,
            "name": i.name or None,
            "sources": dict(i.sources),
        }
        for i in universe.instruments.values()
    ]
    rows += [
        {
            "symbol": m.symbol,
            "kind": "macro",
            "name": m.name or None,
            "units": m.units or None,
            "frequency": m.frequency,
            "sources": dict(m.sources),
        }
        for m in universe.macro.values()
    ]
    return store.upsert_instruments(rows)


def plan_fetch(
    universe: Universe,
    *,
    symbols: Sequence[str] | None = None,
    providers: Sequence[str] | None = None,
    primary_only: bool = False,
) -> list[FetchJob]:
    """The (symbol, provider) jobs a fetch would run, in universe order.

    Parameters
    ----------
    symbols : sequence of str, optional
        Restrict to these instrument or macro symbols (unknown ones raise).
    providers : sequence of str, optional
        Restrict to these providers.
    primary_only : bool
        Only each symbol's first fetchable provider.
    """
    known = set(universe.instruments) | set(universe.macro)
    if symbols is not None:
        unknown = [s for s in symbols if s not in known]
        if unknown:
            raise ParameterError("symbols", f"not in the universe: {', '.join(unknown)}")
    if providers is not None:
        bad = [p for p in providers if p not in FETCHABLE]
        if bad:
            raise ParameterError("providers", f"unknown provider(s) {', '.join(bad)} (known: {', '.join(FETCHABLE)})")
    wanted = set(symbols) if symbols is not None else None
    jobs: list[FetchJob] = []
    entries: list[tuple[str, Mapping[str, str], str]] = [
        (i.symbol, i.sources, "observations") for i in universe.instruments.values()
    ] + [(m.symbol, m.sources, "macro") for m in universe.macro.values()]
    for symbol, srcs, kind in entries:
        if wanted is not None and symbol not in wanted:
            continue
        fetchable = [(p, s) for p, s in srcs.items() if p in FETCHABLE]
        if primary_only:
            fetchable = fetchable[:1]
        for provider, provider_symbol in fetchable:
            if providers is None or provider in providers:
                jobs.append(FetchJob(symbol, provider, provider_symbol, kind))
    return jobs


def _today() -> date:
    return datetime.now(UTC).date()


def fetch(
    store: Store,
    universe: Universe,
    *,
    symbols: Sequence[str] | None = None,
    providers: Sequence[str] | None = None,
    primary_only: bool = False,
    start: date | None = None,
    end: date | None = None,
    overlap_days: int = 7,
    settings: Settings | None = None,
    sources: Mapping[str, Source] | None = None,
    on_start: Callable[[FetchJob], None] | None = None,
    on_done: Callable[[FetchOutcome], None] | None = None,
) -> FetchReport:
    """Fetch what is missing for the universe into the store.

    Parameters
    ----------
    store, universe
    symbols, providers, primary_only
        Which jobs to run (see :func:`plan_fetch`).
    start, end : date, optional
        Force a range. By default each job starts ``overlap_days`` before its
        stored last date (or at the source's default start) and ends today (UTC).
    overlap_days : int
        Days re-fetched before the last stored date to pick up revisions.
    settings : Settings, optional
        API keys and the offline switch.
    sources : mapping provider -> Source, optional
        Pre-built sources (tests inject sources with a mock transport).
    on_start, on_done : callable, optional
        Progress callbacks, called per job.

    Returns
    -------
    FetchReport
    """
    if overlap_days < 0 or overlap_days > 366:
        raise ParameterError("overlap_days", "must be from 0 to 366")
    if start is not None and end is not None and end < start:
        raise ParameterError("end", f"end {end} is before start {start}")
    settings = settings or Settings.resolve()
    if settings.offline and sources is None:
        raise SourceError(
            "offline mode (ROTATION_OFFLINE=1): nothing fetched. Import files with `rotation import` instead.",
            provider="all",
        )
    jobs = plan_fetch(universe, symbols=symbols, providers=providers, primary_only=primary_only)
    register_universe(store, universe)
    built: dict[str, Source] = dict(sources or {})
    report = FetchReport()
    today = _today()
    unreachable = 0
    try:
        for job in jobs:
            if on_start:
                on_start(job)
            if unreachable >= UNREACHABLE_AFTER:
                outcome = FetchOutcome(job, "failed", 0, start, end, "skipped: the network is unreachable")
            else:
                outcome = _run_job(store, job, built, settings, start, end or today, overlap_days)
                unreachable = unreachable + 1 if outcome.connection_failed else 0
            report.outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    finally:
        for name, src in built.items():
            if sources is None or name not in sources:
                src.close()
    return report


def _run_job(
    store: Store,
    job: FetchJob,
    built: dict[str, Source],
    settings: Settings,
    start: date | None,
    end: date,
    overlap_days: int,
) -> FetchOutcome:
    table = "macro" if job.kind == "macro" else "observations"
    try:
        source = built.get(job.provider)
        if source is None:
            source = built[job.provider] = make_source(job.provider, settings)
        if start is not None:
            job_start = start
        else:
            last = store.last_date(job.symbol, job.provider, table=table)
            job_start = (last - timedelta(days=overlap_days)) if last else source.default_start
        if job_start > end:
            return FetchOutcome(job, "skipped", 0, job_start, end, "up to date")
        result = source.fetch(job.symbol, job.provider_symbol, job_start, end)
        frame = result.frame
        with store.transaction():
            if job.kind == "macro":
                rows = store.write_macro(frame, source=job.provider)
            else:
                rows = store.write_observations(frame, source=job.provider)
            if result.actions is not None and not result.actions.empty:
                store.write_actions(result.actions, source=job.provider)
            status = "ok" if rows else "empty"
            message = "; ".join(result.notes)
            store.log_fetch(
                source=job.provider, symbol=job.symbol, start=job_start, end=end,
                rows=rows, status=status, message=message or None,
            )
        return FetchOutcome(job, status, rows, job_start, end, message)
    except (RotationError, ValueError, KeyError, TypeError) as exc:
        # ValueError/KeyError/TypeError: a payload the source did not anticipate; record, go on.
        message = str(exc) if isinstance(exc, RotationError) else f"{type(exc).__name__}: {exc}"
        try:
            store.log_fetch(
                source=job.provider, symbol=job.symbol, start=start, end=end, rows=0, status="failed", message=message
            )
        except RotationError:
            pass
        return FetchOutcome(job, "failed", 0, start, end, message, isinstance(exc, ConnectionFailedError))
