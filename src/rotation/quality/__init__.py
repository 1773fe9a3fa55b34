"""Data quality: what is wrong with the stored data, and what the panel does about it.

:func:`check_store` reads the store's long frames and reports, per instrument
AND source (BTC from coingecko, binance and yahoo are three series):

coverage
    first/last date, rows, dates expected on the instrument's calendar (NYSE
    sessions for equity/etf/index, every day for crypto/stablecoin) between
    its first and last observation, coverage %, rows off the calendar.
gaps
    missing expected dates: count, longest gap with its dates, gaps longer
    than ``max_gap``.
stale runs
    >= ``stale_run`` (5) identical consecutive closes (stablecoins exempt).
non-positive prices
    any of open/high/low/close/adj_close <= 0.
OHLC inconsistencies
    high < low, or close / open outside [low, high].
outliers
    robust z-score of log step returns, (r - median) / (1.4826 * MAD), above
    ``outlier_z`` (8), with dates; a note only. A *spike* - an outlier above
    ``spike_z`` (16) undone by the next step - looks like a bad print and warns.
split-like jumps
    a one-step ``close`` ratio within 3 % of 2, 3, 4, 5, 10, 20 or an inverse,
    relative to ``adj_close`` (so a split that adj_close absorbs is caught and a
    genuine -50 % day, which moves both, is not), or on its own when there is
    no adj_close.
source disagreements
    for each pair of sources of a symbol, daily simple RETURNS on common dates
    (levels differ by adjustment basis): correlation, share of days with
    |r1 - r2| > 2 %, median and first/last level ratio (a step means one
    source is unadjusted for a split), worst day; flagged when the correlation
    is < 0.95 or > 5 % of days disagree. A one-day date offset (the usual
    crypto convention slip) is named, over the whole overlap or per calendar
    year for one spliced segment.
macro series
    coverage at native frequency, longest gap, last date and staleness
    (age > period + release lag + grace).

Grades: ``fail`` for non-positive prices, split-like jumps or coverage below
50 %; ``warn`` for long gaps, low coverage, off-calendar rows, OHLC mismatches,
stale runs, spikes, disagreeing sources, a series ending more than
``behind_days`` before the as-of date, stale macro series and universe members
without data; ``ok`` otherwise (outliers and short gaps are notes).

Cleaning policy (what the panel builder applies)
------------------------------------------------
The checks never change data. The panel builder (``rotation.panel``) applies
:data:`POLICY` and records each action in ``panel.quality``:

==========================  ==================================================
problem                     panel action
==========================  ==================================================
non-positive price          dropped: the value becomes NaN (counted)
row off the NYSE calendar   dropped on the ``sessions`` calendar (counted)
gap                         forward-filled for at most ``max_gap`` rows
                            (counted); later rows of a longer gap stay NaN, so
                            no return is invented across a long hole
outlier return              flagged only, never changed: real crashes are data
split-like jump in close    flagged only; the panel prices from adj_close when
                            present (which absorbs splits); with close only,
                            supply adjusted data or a split action
stale run, OHLC mismatch    flagged only
disagreeing sources         flagged only; the panel uses sources in universe
                            order and fills the preferred source's missing
                            dates from the next one, scaled by their level
                            ratio - so a one-day date offset (see the
                            ``offset_years`` column) must be fixed at import
==========================  ==================================================
"""

from rotation.quality._checks import DEFAULT_THRESHOLDS, Thresholds, check_store
from rotation.quality._policy import POLICY, CleaningPolicy
from rotation.quality._report import STATUSES, QualityReport

__all__ = [
    "DEFAULT_THRESHOLDS",
    "POLICY",
    "STATUSES",
    "CleaningPolicy",
    "QualityReport",
    "Thresholds",
    "check_store",
]
