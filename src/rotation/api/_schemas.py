"""Response models (the OpenAPI contract) and JSON conversion.

Conversion rules (:func:`jsonable`): NaN/inf/NaT -> ``null``; timestamps and
dates -> ISO ``YYYY-MM-DD`` (a time part only when it is not midnight); numpy
scalars -> Python numbers; DataFrames -> records (:func:`records`) or the
``{index, columns, data}`` split (:func:`split_frame`).

Models
------
One model per endpoint response (``...Out``), built from shared parts: the
date-indexed split frame (:class:`FrameSplit`), the event-day frame
(:class:`EventDayFrame`), ``metric``/``value`` rows (:class:`MetricValue`), one
row model per table the analytics return, and the claims ledger
(:class:`LedgerOut`). They describe what the endpoints write today, key for key:
extra keys are an error (``additionalProperties: false``) except in rows whose
columns depend on a parameter (``top_<k>``, ``issuance_<w>``, ``growth_<w>``),
where the extra values are typed. Every number may be ``null`` where the
analytics give NaN (not available).

The routes declare these as ``response_model`` for the OpenAPI spec only: the
analytics endpoints return the cached JSON bytes as a ``Response``, which
FastAPI passes through without validating or re-serialising it, so a cache hit
costs no pydantic work. The tests validate real bodies against the models and
against the generated JSON schema, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Basket",
    "BasketLevelsOut",
    "ClaimVerdict",
    "ConcentrationOut",
    "ContributionOut",
    "CorrelationOut",
    "Error",
    "EventDayFrame",
    "EventStudyOut",
    "FrameSplit",
    "Health",
    "Instrument",
    "InstrumentsOut",
    "LeadLagOut",
    "LedgerOut",
    "MacroSensitivityOut",
    "MetricValue",
    "NetLiquidityOut",
    "PanelOut",
    "PendingClaimOut",
    "QualityOut",
    "RegimesOut",
    "RotationIndexOut",
    "RrgOut",
    "SharesOut",
    "StablecoinsOut",
    "StressOut",
    "UniverseOut",
    "UserEvent",
    "VersionOut",
    "dumps",
    "jsonable",
    "records",
    "split_frame",
]

# ----------------------------------------------------------------------------- shared types
#: ``YYYY-MM-DD``; :func:`_day` appends a time part only for a non-midnight timestamp.
IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}",
                               description="ISO date YYYY-MM-DD (a time part follows only when it is not midnight).")]
#: A number; ``null`` where the value is NaN/inf (not available).
Num = float | None
#: A plain JSON value of a ledger field.
Scalar = str | int | float | bool | None
Notes = Annotated[list[str], Field(description="What a reader must know: series left out, approximations, warnings.")]
Weighting = Literal["equal", "cap", "basket"]


def _f(description: str, **kw: Any) -> Any:
    return Field(description=description, **kw)


class _Out(BaseModel):
    """Base of the response models: keys are exactly the declared fields."""

    model_config = ConfigDict(extra="forbid")


class _Row(BaseModel):
    """Base of rows whose extra columns depend on a parameter: extra values are numbers (or null)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Num] = Field(init=False)


class Error(_Out):
    detail: str = Field(description="What is wrong.")
    parameter: str | None = Field(None, description="The offending parameter, when one is to blame.")


# ----------------------------------------------------------------------------- frames
class _Split(_Out):
    """The ``{index, columns, data}`` layout of :func:`split_frame`; the validator checks the (rows, columns) shape."""

    columns: list[str] = _f("K column names.")
    data: list[list[Num]] = _f("One row of K numbers per index entry; null where the value is missing (NaN).")

    @model_validator(mode="after")
    def _shape(self) -> _Split:
        index = self.index  # type: ignore[attr-defined]
        if len(self.data) != len(index):
            raise ValueError(f"data has {len(self.data)} rows for {len(index)} index entries")
        bad = next((i for i, row in enumerate(self.data) if len(row) != len(self.columns)), None)
        if bad is not None:
            raise ValueError(f"data row {bad} has {len(self.data[bad])} values for {len(self.columns)} columns")
        return self


class FrameSplit(_Split):
    """A date-indexed wide frame, shape (T, K): ``data[i][j]`` is the value on ``index[i]`` of ``columns[j]``."""

    index: list[IsoDate] = _f("T row dates (ISO YYYY-MM-DD), ascending.")


class EventDayFrame(_Split):
    """A frame indexed by event day, shape (D, K): ``data[i][j]`` is the value on day ``index[i]`` of ``columns[j]``."""

    index: list[int] = _f("D event days relative to day 0 (the event session), ascending.")


class MetricValue(_Out):
    """One headline number of a two-column ``metric``/``value`` table."""

    metric: str = _f("What the value is.")
    value: int | float | str | None = _f("The value (a number, a date string or a label); null when not available.")


# ----------------------------------------------------------------------------- meta and data
class Health(_Out):
    status: Literal["ok"] = _f("Always ok when the server answers.")
    version: str = _f("Package version.")
    data_version: int = _f("Store data version: bumped by every committed write; keys the result cache.")
    store: str = _f("Path of the store file served.")


class VersionOut(_Out):
    version: str = _f("Package version.")
    api: Literal["v1"] = _f("API version (the /api/v1 prefix).")
    data_version: int = _f("Store data version (see /health).")


class Basket(_Out):
    name: str = _f("Basket name (use it in `baskets`, `a`, `b`, ... parameters).")
    role: str = _f("Role in the analysis: ai, crypto, benchmark or other.")
    weighting: str = _f("Configured index weighting: equal or cap.")
    members: list[str] = _f("Member instrument symbols.")
    description: str = _f("Free text (may be empty).", default="")


class Instrument(_Out):
    symbol: str = _f("Instrument symbol.")
    asset_class: str = _f("equity, etf, crypto, stablecoin, ...")
    currency: str = _f("Quote currency.")
    name: str = _f("Display name (may be empty).", default="")
    sources: dict[str, str] = _f("Data source -> the source's own id of the instrument.")


class UniverseOut(_Out):
    baskets: list[Basket] = _f("Baskets of the configured universe.")
    instruments: list[Instrument] = _f("Instruments of the configured universe.")


class CoverageRow(_Out):
    table: str = _f("Store table: observations or macro.")
    symbol: str = _f("Instrument or macro series.")
    source: str = _f("Data source of the rows.")
    first: IsoDate | None = _f("First stored date.")
    last: IsoDate | None = _f("Last stored date.")
    rows: int = _f("Stored rows.")


class InstrumentsOut(_Out):
    coverage: list[CoverageRow] = _f("Stored coverage, one row per (table, symbol, source).")


class QualitySummary(_Out):
    series: int = _f("Series checked.")
    instruments: int = _f("Instrument series checked.")
    macro: int = _f("Macro series checked.")
    ok: int = _f("Series with status ok.")
    warn: int = _f("Series with status warn.")
    fail: int = _f("Series with status fail.")
    no_data: int = _f("Series without any stored row.")
    long_gaps: int = _f("Series with gaps longer than the allowed maximum.")
    off_calendar: int = _f("Series with rows off their trading calendar.")
    non_positive: int = _f("Series with a zero or negative price.")
    ohlc_bad: int = _f("Series with inconsistent open/high/low/close.")
    stale_runs: int = _f("Series with runs of unchanged prices.")
    outliers: int = _f("Series with outlying returns.")
    spikes: int = _f("Series with one-day spikes that reverse.")
    split_like: int = _f("Series with split-like jumps.")
    behind: int = _f("Series whose last date lags the reference date.")
    stale_macro: int = _f("Macro series older than their allowed age.")
    source_pairs: int = _f("Pairs of sources of one symbol that overlap.")
    source_pairs_flagged: int = _f("Overlapping source pairs that disagree.")


class QualityRow(_Out):
    """One series of the data-quality report; counts are null where a check does not apply."""

    kind: Literal["instrument", "macro"] = _f("instrument or macro series.")
    symbol: str = _f("Symbol.")
    source: str = _f("Source ('' for a universe member without data).")
    status: str = _f("ok, warn, fail or no data.")
    issues: str = _f("What set the status (short text).")
    notes: str = _f("Findings that do not set the status.")
    asset_class: str | None = _f("Asset class (instruments).")
    calendar: str | None = _f("Trading calendar, or the native frequency D/W/M/Q/A of a macro series.")
    first: IsoDate | None = _f("First observed date.")
    last: IsoDate | None = _f("Last observed date.")
    rows: int | None = _f("Stored rows.")
    expected: int | None = _f("Expected dates on the calendar between first and last.")
    coverage: Num = _f("On-calendar rows / expected, 0..1.")
    missing: int | None = _f("Expected dates without a row.")
    longest_gap: int | None = _f("Longest gap, in periods.")
    longest_gap_start: IsoDate | None = _f("First missing date of the longest gap.")
    longest_gap_end: IsoDate | None = _f("Last missing date of the longest gap.")
    long_gaps: int | None = _f("Gaps longer than the allowed maximum.")
    off_calendar: int | None = _f("Rows dated off the calendar (an equity on a weekend or holiday).")
    blank: int | None = _f("Rows without a price.")
    non_positive: int | None = _f("Rows with a zero or negative price.")
    ohlc_bad: int | None = _f("Rows with inconsistent OHLC.")
    stale_runs: int | None = _f("Runs of unchanged prices.")
    longest_stale: int | None = _f("Longest run of unchanged prices (rows).")
    outliers: int | None = _f("Outlying returns.")
    max_abs_z: Num = _f("Largest absolute robust z-score of a return.")
    spikes: int | None = _f("One-day spikes that reverse.")
    split_like: int | None = _f("Split-like jumps.")
    disagreements: int | None = _f("Flagged source pairs of this symbol.")
    lag_days: int | None = _f("Calendar days from last to the report's reference date.")
    stale_after_days: int | None = _f("Allowed age of a macro series (days).")
    stale: bool | None = _f("Whether a macro series is older than its allowed age.")


class QualityOut(_Out):
    summary: QualitySummary = _f("Counts of series by status and by kind of issue.")
    ok: bool = _f("True when no series fails.")
    series: list[QualityRow] = _f("One row per (symbol, source), worst first.")


class PanelOut(FrameSplit):
    """A wide panel frame, shape (T dates, K symbols), in the requested symbol order."""

    field: Literal["prices", "returns", "market_caps", "volume_usd"] = _f(
        "What the numbers are: prices (USD, adjusted close), returns (simple, 0.01 = 1%), market_caps (USD) or "
        "volume_usd (USD).")
    frequency: Literal["D", "W"] = _f("D: NYSE sessions; W: W-FRI weeks.")
    notes: Notes


# ----------------------------------------------------------------------------- analytics
class BasketLevelsOut(FrameSplit):
    """Basket index levels, shape (T dates, K baskets), rebased to 100 on ``base_date``."""

    frequency: Literal["D", "W"] = _f("D: NYSE sessions; W: W-FRI weeks.")
    weighting: Weighting = _f("Member weighting used.")
    base_date: IsoDate | None = _f("First date where every basket has a level (= 100).")
    notes: Notes


Quadrant = Literal["leading", "weakening", "lagging", "improving"]


class RrgPoint(_Out):
    series: str = _f("Basket or instrument.")
    date: IsoDate | None = _f("Date of the latest point with both coordinates.")
    rs: Num = _f("Relative strength: series level / benchmark level.")
    rs_ratio: Num = _f("RS-Ratio (100 = the benchmark; z-score scaled, 1 sd = 1 point).")
    rs_momentum: Num = _f("RS-Momentum (100 = unchanged relative trend).")
    quadrant: Quadrant | None = _f("RRG quadrant; null without a valid point.")
    heading: Num = _f("Direction of the latest move in degrees [0, 360): 0 = higher ratio, 90 = higher momentum.")
    distance: Num = _f("Distance from the centre (100, 100), in standard deviations.")


class RrgTailPoint(_Out):
    series: str = _f("Basket or instrument.")
    date: IsoDate = _f("Week (W-FRI).")
    rs_ratio: Num = _f("RS-Ratio.")
    rs_momentum: Num = _f("RS-Momentum.")
    quadrant: Quadrant | None = _f("RRG quadrant.")
    step: int = _f("Weeks back from the latest point (0 = latest).")


class RrgOut(_Out):
    benchmark: str = _f("Benchmark instrument or basket.")
    ratio_window: int = _f("RS-Ratio window (weeks).")
    momentum_window: int = _f("RS-Momentum window (weeks).")
    points: list[RrgPoint] = _f("Latest point per series.")
    tails: list[RrgTailPoint] = _f("The last `tail` weekly points of each series, by series then date.")
    notes: Notes


class Crossing(_Out):
    date: IsoDate = _f("Week of the sign change.")
    direction: Literal["up", "down"] = _f("up: the index turns positive; down: it turns negative.")
    value: Num = _f("Index value on that date.")


class HacDrift(_Out):
    """Full-window mean of the weekly relative log growth with Newey-West (HAC) inference."""

    mean: Num = _f("Mean weekly log growth of a minus b.")
    se: Num = _f("HAC standard error of the mean.")
    t: Num = _f("t statistic.")
    p: Num = _f("Two-sided p-value.")
    ci_low: Num = _f("Confidence interval, low end (weekly).")
    ci_high: Num = _f("Confidence interval, high end (weekly).")
    hac_lags: int | None = _f("Newey-West lags.")
    annualised: Num = _f("mean x periods_per_year.")
    ann_ci_low: Num = _f("Annualised interval, low end.")
    ann_ci_high: Num = _f("Annualised interval, high end.")
    n: int = _f("Weeks used.")
    periods_per_year: Num = _f("Periods per year used to annualise.")
    start: IsoDate | None = _f("First week used.")
    end: IsoDate | None = _f("Last week used.")


class RotationIndexOut(_Out):
    a: str = _f("Rotation toward this basket.")
    b: str = _f("... away from this basket.")
    window: int = _f("Growth window (weeks).")
    smooth: int = _f("EMA span (weeks).")
    trend_window: int = _f("Rolling-slope window (weeks).")
    series: FrameSplit = _f("Weekly (T, 4) frame, columns raw (log growth of a minus b), index (smoothed), trend "
                            "(slope per week), trend_sign (-1, 0, 1).")
    crossings: list[Crossing] = _f("Every sign change of the index.")
    drift: HacDrift
    headline: list[MetricValue] = _f("Headline numbers.")
    notes: Notes


class RegimeState(_Out):
    """One state of the regime model (row i = state i)."""

    mean: Num = _f("State mean, series units per week.")
    mean_se: Num = _f("Standard error of the mean (indicative).")
    volatility: Num = _f("State standard deviation per week.")
    ann_mean: Num = _f("Annualised mean (x 52).")
    ann_volatility: Num = _f("Annualised volatility (x sqrt 52).")
    expected_duration: Num = _f("Expected duration, weeks: 1 / (1 - p_stay).")
    p_stay: Num = _f("Probability of staying in the state.")
    ergodic: Num = _f("Long-run share of time in the state.")
    share_smoothed: Num = _f("Share of weeks whose most likely smoothed state is this one.")
    filtered_now: Num = _f("Filtered probability on the last week (real-time).")
    smoothed_now: Num = _f("Smoothed probability on the last week.")


class Spell(_Out):
    state: int = _f("Most likely (smoothed) state.")
    start: IsoDate = _f("First week (inclusive).")
    end: IsoDate = _f("Last week (inclusive).")
    periods: int = _f("Weeks in the spell.")
    mean_probability: Num = _f("Mean probability of the state over the spell.")


class Segment(_Out):
    break_date: IsoDate | None = _f("Change point opening the segment (null for the first).")
    start: IsoDate = _f("First week (inclusive).")
    end: IsoDate = _f("Last week (inclusive).")
    n: int = _f("Weeks.")
    mean: Num = _f("Mean per week.")
    volatility: Num = _f("Standard deviation per week (ddof 1).")
    ann_mean: Num = _f("Annualised mean.")
    ann_volatility: Num = _f("Annualised volatility.")


class RegimesOut(_Out):
    series: str = _f("Name of the modelled series.")
    description: str = _f("What the series is, in words.")
    k: int = _f("Number of regimes.")
    order_by: Literal["mean", "variance"] = _f("State 0 has the lowest mean or the lowest variance.")
    start: IsoDate | None = _f("First week modelled.")
    end: IsoDate | None = _f("Last week modelled.")
    n: int = _f("Weeks modelled.")
    current_state: int = _f("Most likely state on the last week (filtered: real-time).")
    current_probability: Num = _f("Its filtered probability.")
    probabilities: FrameSplit = _f("Smoothed state probabilities, (T, k), columns = states (uses the whole sample).")
    filtered: FrameSplit = _f("Filtered state probabilities, (T, k): data up to each week only.")
    states: list[RegimeState] = _f("Per-state moments and persistence, k rows.")
    transition: list[list[Num]] = _f("(k, k) transition matrix, rows = from, columns = to.")
    llf: Num = _f("Log-likelihood.")
    bic: Num = _f("Bayesian information criterion.")
    spells: list[Spell] = _f("Runs of weeks with the same most likely state.")
    change_points: list[IsoDate] = _f("First week of each new segment (Pelt).")
    segments: list[Segment] = _f("Segments between change points.")
    penalty: Num = _f("Penalty used by the change-point search (standardised cost units).")
    penalty_rule: str = _f("bic or aic.")
    min_size: int = _f("Shortest segment (weeks).")
    notes: Notes


class ShareSummary(_Out):
    basket: str = _f("Basket.")
    first_date: IsoDate | None = _f("First week with a share.")
    last_date: IsoDate | None = _f("Last week with a share.")
    share_first: Num = _f("Share then, 0..1.")
    share_last: Num = _f("Share now, 0..1.")
    change_pp: Num = _f("Change, percentage points.")
    share_min: Num = _f("Lowest share, 0..1.")
    share_max: Num = _f("Highest share, 0..1.")


class BasketCapRow(_Out):
    basket: str = _f("Basket.")
    members: int = _f("Members with a market-cap column.")
    first_date: IsoDate | None = _f("First week with a cap.")
    last_date: IsoDate | None = _f("Last week with a cap.")
    cap_first: Num = _f("Basket market cap on first_date (USD).")
    cap_last: Num = _f("Basket market cap on last_date (USD).")
    coverage_last: Num = _f("Share of members with a cap on the last week, 0..1.")
    growth_index_last: Num = _f("Chain-linked market-cap index (base 100) on the last week.")


class SharesOut(_Out):
    shares: FrameSplit = _f("Weekly (T, K) share of the baskets' combined market cap, 0..1; rows sum to 1.")
    summary: list[ShareSummary] = _f("Per basket: first/last share, change, range.")
    caps: list[BasketCapRow] = _f("Per basket: members, dates, caps (USD), coverage, growth index.")
    notes: Notes


class IssuanceSummary(_Row):
    """Per coin and total; plus ``issuance_<w>`` (USD, trailing sum) and ``growth_<w>`` (fraction) per window."""

    series: str = _f("Coin, or total.")
    last_date: IsoDate | None = _f("Latest date.")
    supply: Num = _f("Supply on last_date (USD).")
    issuance_last: Num = _f("Net issuance of the last period (USD).")


class StablecoinsOut(_Out):
    coins: list[str] = _f("Coins with supply data (columns other than total).")
    frequency: Literal["W", "D"] = _f("W: last session of each week; D: sessions.")
    windows: list[int] = _f("Trailing windows (rows).")
    net_issuance: FrameSplit = _f("(T, N+1) change in supply per period (USD), per coin and total.")
    supply: FrameSplit = _f("(T, N+1) supply (USD), per coin and total.")
    rolling: dict[str, FrameSplit] = _f("Window (as a string) -> (T, N+1) trailing sum of net issuance (USD).")
    growth: dict[str, FrameSplit] = _f("Window (as a string) -> (T, N+1) supply growth over the window (fraction).")
    summary: list[IssuanceSummary] = _f("Per coin and total: latest supply, issuance and growth.")
    notes: Notes


class ResidualCorrelationRow(_Out):
    a: str = _f("First series.")
    b: str = _f("Second series.")
    market: str = _f("The benchmark removed.")
    residual_correlation: Num = _f("Correlation of a and b net of the market (partial correlation).")
    stderr_hac: Num = _f("Newey-West standard error.")
    p_value_hac: Num = _f("Two-sided HAC p-value.")
    ci_low: Num = _f("Confidence interval, low end.")
    ci_high: Num = _f("Confidence interval, high end.")
    p_value_iid: Num = _f("Classical p-value (independent observations only).")
    raw_correlation: Num = _f("Correlation before removing the market.")
    beta_a: Num = _f("Market beta of a.")
    beta_b: Num = _f("Market beta of b.")
    n: int = _f("Weeks used.")
    hac_lags: int | None = _f("Newey-West lags.")
    start: IsoDate | None = _f("First week used.")
    end: IsoDate | None = _f("Last week used.")


class CorrelationOut(_Out):
    a: str = _f("Basket or instrument.")
    b: str = _f("Basket or instrument.")
    benchmark: str = _f("Market for the betas and the residual correlation.")
    window: int = _f("Rolling window (weeks).")
    correlation: FrameSplit = _f("Weekly (T, 1) rolling correlation of a and b; column 'a ~ b'.")
    beta: FrameSplit = _f("Weekly (T, 2) rolling betas of a and b on the benchmark.")
    residual_correlation: FrameSplit = _f("Weekly (T, 2): residual_correlation, raw_correlation.")
    summary: list[ResidualCorrelationRow] = _f("Full-window HAC residual correlation (one row).")


class LagRow(_Out):
    lag: int = _f("k > 0 pairs x(t+k) with y(t): y leads x by k weeks; k < 0: x leads y.")
    leader: str = _f("Which series leads at this lag.")
    correlation: Num = _f("Cross-correlation.")
    stderr: Num = _f("Standard error under no cross-correlation.")
    lower: Num = _f("Significance band, low end.")
    upper: Num = _f("Significance band, high end.")
    p_value: Num = _f("Two-sided p-value (not adjusted for many lags).")
    significant: bool | None = _f("Outside the band.")


class LeadLagOut(_Out):
    x: str = _f("Basket or instrument.")
    y: str = _f("Basket or instrument.")
    max_lag: int = _f("Largest lag (weeks).")
    lags: list[LagRow] = _f("One row per lag, -max_lag..max_lag.")
    peak_lag: int | None = _f("Lag of the largest absolute correlation.")
    n: int = _f("Weeks used.")
    start: IsoDate | None = _f("First week used.")
    end: IsoDate | None = _f("Last week used.")
    bands: str = _f("white (1/sqrt(n)) or bartlett (autocorrelation-adjusted).")


class SensitivityRow(_Out):
    series: str = _f("Basket.")
    term: str = _f("const or a factor.")
    coef: Num = _f("Return per unit of factor change (per pp of yield, per unit fractional change).")
    se: Num = _f("HAC standard error.")
    t: Num = _f("t statistic.")
    p: Num = _f("Two-sided p-value.")
    ci_low: Num = _f("Confidence interval, low end.")
    ci_high: Num = _f("Confidence interval, high end.")
    r2: Num = _f("R squared.")
    nobs: int | None = _f("Weeks used.")
    hac_lags: Num = _f("Newey-West lags.")
    start: IsoDate | None = _f("First week used.")
    end: IsoDate | None = _f("Last week used.")


class MacroSensitivityOut(_Out):
    baskets: list[str] = _f("Baskets regressed.")
    factors: list[str] = _f("Factor columns.")
    window: int = _f("Rolling window (weeks).")
    table: list[SensitivityRow] = _f("Full-window HAC regression, one row per (series, term).")
    betas: FrameSplit = _f("Weekly (T, K) rolling betas, columns 'basket: factor'.")
    notes: Notes


class NetLiquiditySummary(_Out):
    series: str = _f("net_liquidity or a component.")
    first_date: IsoDate | None = _f("First date with a value.")
    last_date: IsoDate | None = _f("Last date with a value.")
    first_bn: Num = _f("First value, USD billions.")
    last_bn: Num = _f("Last value, USD billions.")
    change_bn: Num = _f("Change, USD billions.")
    min_bn: Num = _f("Lowest value, USD billions.")
    max_bn: Num = _f("Highest value, USD billions.")


class NetLiquidityOut(_Out):
    net_liquidity: FrameSplit = _f("Daily (T, 1) Fed assets - TGA - reverse repo, USD, as known on each day; null "
                                   "where a component is unknown.")
    components: FrameSplit = _f("Daily (T, 3) fed_assets, tga, reverse_repo in USD.")
    summary: list[NetLiquiditySummary] = _f("Per series: first/last, change and range (USD billions).")


class ConcentrationSnapshot(_Row):
    """One (basket, when) snapshot; plus ``top_<k>`` (share of the k largest members, 0..1) per requested k."""

    basket: str = _f("Basket.")
    when: str = _f("latest, 1y or 3y before.")
    date: IsoDate | None = _f("Date of the snapshot.")
    n_with_cap: int | None = _f("Members with a market cap on that date.")
    n_members: int | None = _f("Configured members.")
    coverage: Num = _f("n_with_cap / n_members.")
    hhi: Num = _f("Herfindahl-Hirschman index of member shares, in [1/n, 1].")
    effective_number: Num = _f("1 / HHI.")
    hhi_normalised: Num = _f("(HHI - 1/n) / (1 - 1/n), 0..1.")
    leader: str | None = _f("Largest member.")


class ConcentrationOut(_Out):
    baskets: list[str] = _f("Baskets measured.")
    k: list[int] = _f("Top-k sizes.")
    snapshots: list[ConcentrationSnapshot] = _f("Latest, 1 and 3 years before, per basket.")
    hhi: FrameSplit = _f("Daily (T, K) HHI per basket; null where not measured.")
    effective_number: FrameSplit = _f("Daily (T, K) effective number of members.")
    top: dict[str, FrameSplit] = _f("k (as a string) -> daily (T, K) share of the k largest members.")
    notes: Notes


class ComparisonRow(_Out):
    measure: str = _f("What is compared.")
    computed: Num = _f("Computed here.")
    published: Num = _f("Published figure.")
    difference: Num = _f("computed - published.")


class ContributionRow(_Out):
    symbol: str = _f("Constituent.")
    in_set: bool = _f("Member of the set.")
    cap_start: Num = _f("Market cap at start (USD).")
    cap_end: Num = _f("Market cap at end (USD).")
    weight_start: Num = _f("Index weight at start, 0..1.")
    weight_end: Num = _f("Index weight at end, 0..1.")
    return_: Num = Field(alias="return", description="Buy-and-hold return (0.1 = 10%).")
    contribution: Num = _f("weight_start x return.")
    share_of_return: Num = _f("Share of the index return (may exceed 1 or be negative).")
    cap_change: Num = _f("Market-cap change (USD).")
    share_of_cap_increase: Num = _f("Share of the index cap increase.")
    linked_contribution: Num = _f("Linked daily contribution.")
    share_of_linked: Num = _f("Share of the linked index return.")
    last_price_date: IsoDate | None = _f("Last observed price on or before end.")


class ContributionOut(_Out):
    index: str = _f("Index.")
    set: str = _f("Name of the set.")
    start: IsoDate | None = _f("Window start (last row on or before the requested start).")
    end: IsoDate | None = _f("Window end.")
    linking: str = _f("Linking of the daily contributions.")
    members: list[str] = _f("Set members that are constituents.")
    members_left_out: dict[str, str] = _f("Set member -> why it is not used.")
    constituents: int = _f("Number of constituents.")
    excluded: dict[str, list[str]] = _f("Reason -> symbols left out of the index.")
    summary: list[MetricValue] = _f("Headline numbers.")
    comparison: list[ComparisonRow] = _f("Computed vs published shares.")
    contributions: list[ContributionRow] = _f("Per constituent, largest contribution first.")
    daily: FrameSplit = _f("Daily (T, 5): index_return, set_contribution, other_contribution, index_cumulative, "
                           "set_weight.")
    notes: Notes


# ----------------------------------------------------------------------------- events
_CELL_KEYS = ("kind", "event", "pool")


class _Cell(_Out):
    """A row of a cell: exactly one key column (``kind``, ``event`` or ``pool``, per the response's ``key``)."""

    kind: str | None = _f("Cell key when key = kind: the event kind.", default=None)
    event: str | None = _f("Cell key when key = event: the event id.", default=None)
    pool: str | None = _f("Cell key when key = pool: all events pooled.", default=None)

    @model_validator(mode="after")
    def _one_key(self) -> _Cell:
        keys = [k for k in _CELL_KEYS if k in self.model_fields_set]
        if len(keys) != 1:
            raise ValueError(f"a row needs exactly one of {', '.join(_CELL_KEYS)}, got {keys or 'none'}")
        return self


class EventSummaryRow(_Cell):
    group: str = _f("Series group (basket).")
    window: str = _f("CAR window, e.g. [-1,+1].")
    start: int = _f("First event day of the window.")
    end: int = _f("Last event day of the window.")
    n: int = _f("CARs.")
    n_events: int = _f("Events.")
    n_series: int = _f("Series.")
    mean_car: Num = _f("Mean cumulative abnormal return (simple-return sum, 0.05 = 5%).")
    sd_car: Num = _f("Cross-sectional standard deviation (null for n = 1).")
    t: Num = _f("Cross-sectional t.")
    p_t: Num = _f("Its p-value.")
    mean_scar: Num = _f("Mean standardised CAR.")
    bmp: Num = _f("Boehmer-Musumeci-Poulsen statistic.")
    p_bmp: Num = _f("Its p-value.")
    rbar: Num = _f("Mean cross-correlation of abnormal returns.")
    kp: Num = _f("Kolari-Pynnonen adjusted statistic.")
    p_kp: Num = _f("Its p-value.")
    ci_low: Num = _f("Confidence interval of mean_car, low end (KP-widened).")
    ci_high: Num = _f("Confidence interval of mean_car, high end.")
    pos_share: Num = _f("Share of CARs > 0.")
    p_single: Num = _f("For n = 1: time-series p-value of that CAR.")


class EventPathRow(_Cell):
    group: str = _f("Series group (basket).")
    day: int = _f("Event day.")
    n: int = _f("CARs averaged.")
    mean_car: Num = _f("Mean CAR from the path start to this day.")
    ci_low: Num = _f("Confidence interval, low end.")
    ci_high: Num = _f("Confidence interval, high end.")
    rbar: Num = _f("Mean cross-correlation.")


class EventRow(_Out):
    event: str = _f("Event id.")
    date: IsoDate = _f("Event date.")
    kind: str = _f("Event kind.")
    label: str = _f("Label.")
    timing: str = _f("When on the day the event happened.")
    session: IsoDate | None = _f("Day 0: the first session the event can affect.")
    n_series: int = _f("Series studied for the event.")


class ExcludedRow(_Out):
    event: str = _f("Event id.")
    series: str = _f("Series.")
    window: str = _f("CAR window ('' when the whole pair or event is out).")
    reason: str = _f("Why it is left out.")


class EventParams(_Out):
    market: str = _f("Market model benchmark.")
    model: str = _f("Normal-return model.")
    estimation: int = _f("Estimation window (sessions).")
    gap: int = _f("Sessions between the estimation window and day 0.")
    min_estimation: int = _f("Fewest estimation sessions accepted.")
    windows: list[list[int]] = _f("CAR windows as [start, end] event days.")
    path: list[int] = _f("[first, last] event day of the CAR paths.")
    by: str = _f("Cross-sections: kind, event or all.")
    level: Num = _f("Confidence level.")
    relative: list[str] = _f("Series made relative to another.")


class EventStudyOut(_Out):
    market: str = _f("Market model benchmark.")
    baskets: list[str] = _f("Baskets studied.")
    key: Literal["kind", "event", "pool"] = _f("The cell key column of summary and path_rows.")
    summary: list[EventSummaryRow] = _f("One row per cell and window: CAR, t, BMP, Kolari-Pynnonen.")
    paths: EventDayFrame = _f("Mean CAR by event day, columns 'key | group'.")
    path_rows: list[EventPathRow] = _f("The paths as rows, with intervals.")
    events: list[EventRow] = _f("The events studied.")
    excluded: list[ExcludedRow] = _f("Everything left out and why.")
    params: EventParams
    notes: Notes


# ----------------------------------------------------------------------------- stress
class StressResponse(_Out):
    shocked: str = _f("Shocked basket.")
    shock: Num = _f("Shock, a return (-0.15 = a 15% fall).")
    series: str = _f("Responding basket.")
    method: str = _f("beta, downside_beta, conditional_beta or analogues.")
    response: Num = _f("beta x shock, or the median return over analogue windows.")
    low: Num = _f("Uncertainty band, low end.")
    high: Num = _f("Uncertainty band, high end.")
    band: str = _f("Which band: the beta's HAC interval x shock, or analogue quantiles.")
    beta: Num = _f("Beta (beta rows).")
    beta_p: Num = _f("Beta p-value.")
    n: int = _f("Weeks in the regression, or analogue windows.")
    median_ci_low: Num = _f("Analogue median interval, low end (null with few windows).")
    median_ci_high: Num = _f("Analogue median interval, high end.")
    mean: Num = _f("Analogue mean.")


class DrawdownSummary(_Out):
    symbol: str = _f("Basket.")
    threshold: Num = _f("Drawdown depth (0.2 = 20%).")
    episodes: int = _f("Episodes (an open one included).")
    open: int = _f("1 if the last episode has not recovered.")
    per_year: Num = _f("Episodes per calendar year.")
    years: Num = _f("Calendar span of the data, years.")
    first_date: IsoDate | None = _f("First date of the data.")
    last_date: IsoDate | None = _f("Last date of the data.")
    deepest: Num = _f("Lowest trough depth (-0.42 = -42%).")
    median_days_to_trough: Num = _f("Median calendar days peak to trough.")
    max_days_to_trough: Num = _f("Longest days peak to trough.")
    median_days_to_recovery: Num = _f("Median days peak to recovery (recovered episodes).")
    max_days_to_recovery: Num = _f("Longest days peak to recovery.")
    open_days: Num = _f("Days underwater so far of the open episode.")


class DrawdownEpisode(_Out):
    symbol: str = _f("Basket.")
    threshold: Num = _f("Drawdown depth.")
    peak: IsoDate = _f("High-water mark.")
    start: IsoDate = _f("First date at or beyond the threshold.")
    trough: IsoDate = _f("Trough.")
    recovery: IsoDate | None = _f("First date back at the peak (null while open).")
    depth: Num = _f("Trough drawdown (-0.42 = -42%).")
    periods_to_trough: int = _f("Returns from peak to trough.")
    days_to_trough: int = _f("Calendar days from peak to trough.")
    periods_to_recovery: Num = _f("Returns from peak to recovery (null while open).")
    days_to_recovery: Num = _f("Calendar days from peak to recovery (null while open).")
    days_underwater: Num = _f("Peak to recovery, or to the last observation while open (days).")
    recovered: bool = _f("Whether it recovered.")


class StressOut(_Out):
    baskets: list[str] = _f("Baskets.")
    start: IsoDate | None = _f("First date of the levels.")
    end: IsoDate | None = _f("Last date of the levels.")
    frequency: str = _f("Spacing of the levels: D, W or other.")
    scenario_frequency: str = _f("Frequency of the scenario returns (W for daily levels).")
    responses: list[StressResponse] = _f("One row per (shocked, shock, series, method).")
    drawdowns: list[DrawdownSummary] = _f("Frequency and duration per (basket, threshold).")
    episodes: list[DrawdownEpisode] = _f("Every drawdown episode.")
    notes: Notes


# ----------------------------------------------------------------------------- claims
class Effect(_Out):
    value: Num = _f("Point estimate.")
    unit: str = _f("Its unit.")
    description: str = _f("What the number is.")


class Interval(_Out):
    lo: Num = _f("Low bound, in the effect's unit.")
    hi: Num = _f("High bound.")
    level: Num = _f("Confidence level (0.95).")
    method: str = _f("How it was obtained.")


class Window(_Out):
    start: IsoDate | None = _f("First date of the data the effect was measured on.")
    end: IsoDate | None = _f("Last date.")


class Provenance(_Out):
    symbol: str = _f("Instrument.")
    source: str | None = _f("Preferred stored source.")
    first_date: IsoDate | None = _f("First price in the panel.")
    last_observed: IsoDate | None = _f("Last observed (not forward-filled) price.")


class EvidenceFrame(_Out):
    columns: list[str] = _f("Column names.")
    data: list[list[Scalar]] = _f("Rows of plain values (numbers, ISO dates, labels; null = missing).")


class ClaimVerdict(_Out):
    id: str = _f("Claim id, R1..R12.")
    title: str = _f("The claim in words.")
    status: Literal["evaluated"] = _f("evaluated.")
    verdict: Literal["supported", "contradicted", "inconclusive", "insufficient data"] = _f("The verdict.")
    rule: str = _f("The decision rule with its thresholds.")
    effect: Effect | None = _f("Effect size (null only for insufficient data).")
    interval: Interval | None = _f("Confidence interval of the effect.")
    p_value: Num = _f("Two-sided p-value of no effect.")
    window: Window | None = _f("Window of the data used.")
    as_of: IsoDate | None = _f("As-of date of the evaluation (null: all stored data).")
    baskets: list[str] = _f("Baskets used.")
    instruments: list[str] = _f("Instruments used.")
    data: list[Provenance] = _f("Provenance per instrument.")
    caveats: list[str] = _f("Data-quality notes.")
    missing: list[str] = _f("What is missing (only for insufficient data).")
    statistics: dict[str, Scalar] = _f("Secondary numbers, not part of the decision rule.")
    parameters: dict[str, Scalar | list[Scalar]] = _f("Configuration values the claim used.")
    evidence: dict[str, EvidenceFrame] = _f("Name -> tidy frame for the charts.")


class PendingClaimOut(_Out):
    id: str = _f("Claim id.")
    title: str = _f("The claim in words.")
    status: Literal["not yet implemented"] = _f("A registered claim without code: never given a verdict.")
    verdict: None = _f("Always null.")


class LedgerOut(_Out):
    """The claims ledger (``Ledger.to_json``): deterministic, floats exact, NaN as null."""

    schema_: int = Field(alias="schema", description="Version of the ledger's JSON layout.")
    as_of: IsoDate | None = _f("Data cut-off of the run (null: everything stored).")
    start: IsoDate | None = _f("Window override of the run (null: each claim's configured window).")
    end: IsoDate | None = _f("Window override of the run.")
    config: str = _f("Claims configuration used (default: the shipped one).")
    claims: list[Annotated[ClaimVerdict | PendingClaimOut, Field(discriminator="status")]] = _f(
        "One entry per requested claim, R1..R12 order.")


# ----------------------------------------------------------------------------- requests
class UserEvent(BaseModel):
    date: dt.date
    label: str = Field(max_length=200)
    kind: str = Field("user", max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    affects: list[str] = Field(default_factory=list, max_length=50)


def _day(ts: Any) -> str:
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None and ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.isoformat()


def jsonable(obj: Any) -> Any:
    """Recursively convert pandas/numpy objects to JSON-ready Python (NaN -> None)."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if obj is pd.NaT:
        return None
    if isinstance(obj, pd.Timestamp | dt.datetime | dt.date | np.datetime64):
        return None if pd.isna(obj) else _day(obj)
    if isinstance(obj, pd.Timedelta):
        return None if pd.isna(obj) else obj.days
    if isinstance(obj, pd.DataFrame):
        return records(obj)
    if isinstance(obj, pd.Series):
        return {"index": [jsonable(i) for i in obj.index], "values": [jsonable(v) for v in obj.to_numpy()]}
    if isinstance(obj, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | np.ndarray):
        return [jsonable(v) for v in obj]
    if pd.api.types.is_scalar(obj) and pd.isna(obj):
        return None
    return str(obj)


def records(frame: pd.DataFrame, *, index: str | None = None) -> list[dict[str, Any]]:
    """Rows as dicts; the index becomes column ``index`` (its name or ``index``) unless it is a RangeIndex."""
    f = frame
    if not isinstance(f.index, pd.RangeIndex):
        f = f.reset_index(names=index or (f.index.name or "index"))
    cols = [str(c) for c in f.columns]
    return [dict(zip(cols, (jsonable(v) for v in row), strict=True)) for row in f.itertuples(index=False, name=None)]


def split_frame(frame: pd.DataFrame) -> dict[str, Any]:
    """``{index: [ISO dates], columns: [...], data: [[...]]}`` with NaN -> null."""
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    data = [[v if math.isfinite(v) else None for v in row] for row in values.tolist()]
    return {"index": [_day(i) for i in frame.index], "columns": [str(c) for c in frame.columns], "data": data}


def dumps(obj: Any) -> bytes:
    """Strict JSON (no NaN literals) of an already-jsonable object."""
    return json.dumps(obj, allow_nan=False, separators=(",", ":")).encode()
