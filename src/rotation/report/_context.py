"""The inputs every report section shares, built once and cached.

Look-ahead policy
-----------------
The panel is built with ``end = min(--end, --as-of)`` (:func:`rotation.panel.build_panel`
reads nothing after it), macro series are aligned as published on each row
(:func:`rotation.panel.macro_panel`) and the claims are evaluated with ``as_of``, so
every section of a report "as of" a date uses only data available then. Two
approximations remain and are stated in the report: adjusted closes are stored as
adjusted today (later splits and dividends scale earlier prices, not their returns),
and back-cast market caps use the latest cap snapshot on or before the data end.

Windows
-------
``--start`` chooses the rows shown and the window of every summary (performance,
risk, regressions, regimes, stress). Rolling measures (relative rotation,
rotation index, rolling correlations) are computed on the whole stored history
up to the data end and then cut at ``--start``, so their first shown points are
complete.

Baskets
-------
Basket indices use each basket's configured weighting
(:func:`rotation.analytics.performance.basket_indices`: cap weights fall back
to equal weights where caps are too sparse) and stop at their coverage end
(:func:`rotation.analytics.performance.common_window`), so no flat,
forward-filled tail enters any statistic. The AI and crypto *sides* (the
claims configuration's ``ai`` and ``crypto`` baskets) are daily-rebalanced
equal-weighted averages of those basket indices, as in the claims ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import pandas as pd

from rotation.analytics.performance import BasketPerformance, basket_performance
from rotation.claims import ClaimsConfig, Params
from rotation.errors import DataError, EmptyStoreError, RotationError
from rotation.events import EventSet
from rotation.panel import BasketIndex, Panel, basket_index, build_panel, macro_panel
from rotation.report._model import Timings
from rotation.store import Store
from rotation.universe import Universe

__all__ = ["ReportContext"]

T = TypeVar("T")


def memo(fn: Callable[[ReportContext], T]) -> property:
    """A cached property that also caches the error: a missing input is looked for once, not per section."""
    name = fn.__name__

    def get(self: ReportContext) -> T:
        if name not in self._memo:
            try:
                self._memo[name] = (True, fn(self))
            except (RotationError, ImportError) as exc:
                self._memo[name] = (False, exc)
        ok, value = self._memo[name]
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    get.__doc__ = fn.__doc__
    return property(get)

#: Basket roles shown as baskets in the report (benchmarks are a reference, stablecoins a supply story).
SHOWN_ROLES = ("ai", "crypto")


class ReportContext:
    """Shared, cached inputs of one report run (see the module notes for the policy).

    Parameters
    ----------
    store : Store
    universe : Universe
    claims_config : ClaimsConfig
        Supplies the AI and crypto sides, the benchmark (``market``) and the
        rotation-index windows (claim R1's keys), so the report and the ledger agree.
    start, end, as_of : date, optional
    events : list of (label, EventSet)
        Event sets to study: the default one and, when given, the user's.
    timings : Timings
    say : callable
        Progress messages.
    """

    def __init__(
        self,
        store: Store,
        universe: Universe,
        claims_config: ClaimsConfig,
        *,
        start: date | None = None,
        end: date | None = None,
        as_of: date | None = None,
        events: list[tuple[str, EventSet, Path | None]] | None = None,
        timings: Timings | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.universe = universe
        self.claims_config = claims_config
        self.start = pd.Timestamp(start) if start is not None else None
        self.end = pd.Timestamp(end) if end is not None else None
        self.as_of = pd.Timestamp(as_of) if as_of is not None else None
        ends = [t for t in (self.end, self.as_of) if t is not None]
        #: Last date any data is read for.
        self.data_end: pd.Timestamp | None = min(ends) if ends else None
        self.events = events or []
        self.timings = timings or Timings()
        self.say = say or (lambda _m: None)
        self.results: dict[str, object] = {}
        self._memo: dict[str, tuple[bool, object]] = {}

    # -- configuration -----------------------------------------------------------------
    @cached_property
    def r1(self) -> Params:
        """Claim R1's resolved parameters (sides, benchmark, rotation-index and RRG windows)."""
        from rotation.claims.r1_rotation import PARAMS

        return self.claims_config.params("R1", PARAMS)

    @property
    def benchmark(self) -> str:
        """The benchmark instrument of the relative rotation graph and the market factor."""
        return str(self.r1["market"])

    # -- data --------------------------------------------------------------------------
    @cached_property
    def panel(self) -> Panel:
        """Daily NYSE-session panel of every universe member, whole history up to the data end."""
        return build_panel(self.store, self.universe, symbols=self.universe.members(), end=self.data_end,
                           cap_method="backcast")

    @memo
    def view(self) -> Panel:
        """The panel's rows from ``--start`` (the window of every summary)."""
        if self.start is None:
            return self.panel
        if self.start > self.panel.index[-1]:
            raise DataError(f"--start {self.start.date()} is after the last panel row "
                            f"{self.panel.index[-1].date()}")
        return self.panel.window(self.start, None)

    @memo
    def perf(self) -> BasketPerformance:
        """Basket performance over the report window (the risk table and trailing returns)."""
        return basket_performance(self.view, self.shown_baskets + self.benchmark_baskets)

    @memo
    def perf_history(self) -> BasketPerformance:
        """Basket performance over the whole history (levels for rolling measures)."""
        if self.start is None:
            return self.perf
        return basket_performance(self.panel, self.shown_baskets + self.benchmark_baskets)

    @property
    def shown_baskets(self) -> list[str]:
        """Universe baskets with role ai or crypto, in universe order."""
        return [n for n, b in self.universe.baskets.items() if b.role in SHOWN_ROLES]

    @property
    def benchmark_baskets(self) -> list[str]:
        return [n for n, b in self.universe.baskets.items() if b.role == "benchmark"]

    @memo
    def levels(self) -> pd.DataFrame:
        """(T, B) basket levels over the whole history, each stopped at its coverage end.

        Only the shown (ai and crypto) baskets that have data; stale baskets
        (see :class:`rotation.analytics.performance.CommonWindow`) run to their own end.
        """
        lv = self.perf_history.levels
        return lv[[n for n in self.shown_baskets if n in lv.columns]]

    @memo
    def common_end(self) -> pd.Timestamp:
        """Last date of the comparison window (the earliest coverage end of the live baskets)."""
        return self.perf_history.window.end

    def display(self, frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
        """Rows from ``--start`` on (all rows without it)."""
        return frame if self.start is None else frame.loc[self.start:]

    @memo
    def bench_level(self) -> pd.Series:
        """The benchmark's price, stopped at the comparison window's end."""
        sym = self.benchmark
        if sym not in self.panel.prices.columns or not self.panel.prices[sym].notna().any():
            raise DataError(f"benchmark {sym}: no prices stored"
                            + (f" on or before {self.data_end.date()}" if self.data_end is not None else ""))
        return self.panel.prices[sym].loc[: self.common_end].rename(sym)

    def sides(self) -> tuple[BasketIndex, BasketIndex, list[str], list[str]]:
        """The AI and crypto side indices (equal-weighted averages of the configured baskets).

        Returns
        -------
        (ai, crypto, ai_baskets, crypto_baskets)
            Only baskets with levels are used.

        Raises
        ------
        DataError
            A side has no basket with data.
        """
        if "sides" in self.results:
            return self.results["sides"]  # type: ignore[return-value]
        out = []
        names_used = []
        for key, label in (("ai", "AI side"), ("crypto", "crypto side")):
            names = self.r1[key]
            names = [names] if isinstance(names, str) else list(names)
            have = [n for n in names if n in self.levels.columns and self.levels[n].notna().any()]
            if not have:
                raise DataError(f"the {key} side ({', '.join(names)}, claims configuration) has no basket with data")
            out.append(basket_index(self.levels[have], weighting="equal", rebalance="D", name=label))
            names_used.append(have)
        res = (out[0], out[1], names_used[0], names_used[1])
        self.results["sides"] = res
        return res

    @memo
    def macro(self) -> pd.DataFrame:
        """Macro series as published on each panel row (USD-scaled); raises DataError when none is stored."""
        try:
            return macro_panel(self.store, self.universe, index=self.panel.index)
        except EmptyStoreError:
            raise DataError("no macro series in the store (rotation fetch --provider fred, or import FRED "
                            "files with rotation import)") from None

    def cut_observed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with each column blanked after its last observed price (see ``Panel.observed_only``)."""
        return self.panel.observed_only(frame)
