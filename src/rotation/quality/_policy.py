"""The cleaning policy: what the panel builder does to problems the checks find.

This module is deliberately free of imports from the rest of rotation so the
panel builder can import :data:`POLICY` without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["POLICY", "CleaningPolicy"]


@dataclass(frozen=True, slots=True)
class CleaningPolicy:
    """What the panel builder does with each kind of data problem.

    Only three problems change what the panel holds: non-positive prices and
    exchange-traded rows dated off the session calendar (dropped), and gaps
    (carried forward for at most ``max_gap`` rows). Everything else is
    reported by :func:`rotation.quality.check_store` and left exactly as
    stored, because a real crash or a real 50 % day is data, not an error, and
    a silent "fix" would bias every downstream statistic.

    Attributes
    ----------
    non_positive : str
        ``"drop"``: a price <= 0 is set to NaN before anything else and the
        drop is counted (quality action ``dropped``). The checks count all five
        price fields (open, high, low, close, adj_close); the panel reads only
        close and adj_close.
    off_calendar : str
        ``"drop"``: on the ``sessions`` calendar, an exchange-traded row dated
        on a weekend or holiday is dropped and counted.
    max_gap : int
        Missing rows are forward-filled for at most this many rows (sessions
        for exchange-traded instruments, days for crypto) and every filled
        cell is counted (``filled``). In a longer gap the rows after the first
        ``max_gap`` stay NaN, so the return at its end is NaN and no move is
        invented across a long hole (deciding on the gap's first row how long
        it will last would be look-ahead). The panel's ``max_gap`` argument
        overrides this default; :class:`rotation.quality.Thresholds` uses the
        same number to call a gap long.
    gap_fill : str
        ``"ffill"``: the last observed value is carried (never interpolated,
        which would use the future).
    outliers : str
        ``"flag"``: robust z-score outliers of log returns are reported only.
    split_like : str
        ``"flag"``: a one-day jump of ``close`` by a common split ratio while
        ``adj_close`` does not move (or is absent) is reported only. The panel
        prices from ``adj_close`` whenever it exists, which already removes
        the jump; when only ``close`` exists, the user must supply adjusted
        data or a split action.
    stale : str
        ``"flag"``: runs of identical closes are reported only.
    ohlc : str
        ``"flag"``: rows with high < low or close/open outside [low, high] are
        reported only (the panel uses closes, not ranges).
    source_disagreement : str
        ``"flag"``: the panel prefers sources in the universe's order and fills
        a missing date of the preferred source from the next one, scaled by the
        level ratio of the two; it does not arbitrate between sources. Pairs
        whose returns disagree (or look one day apart) are reported so the
        user can fix the date convention or drop a source: a spliced row from
        an offset source would carry the wrong day's move.
    """

    non_positive: str = "drop"
    off_calendar: str = "drop"
    max_gap: int = 5
    gap_fill: str = "ffill"
    outliers: str = "flag"
    split_like: str = "flag"
    stale: str = "flag"
    ohlc: str = "flag"
    source_disagreement: str = "flag"

    #: Price fields the ``non_positive`` rule applies to.
    PRICE_FIELDS = ("open", "high", "low", "close", "adj_close")

    def describe(self) -> dict[str, str]:
        """One line per rule, for reports and ``rotation check --json``."""
        return {
            "non_positive": f"{self.non_positive}: close/adj_close <= 0 become NaN, counted",
            "off_calendar": f"{self.off_calendar}: exchange-traded rows on non-sessions, counted",
            "gaps": (
                f"{self.gap_fill} for at most {self.max_gap} rows, counted; "
                "later rows of a longer gap stay NaN"
            ),
            "outliers": f"{self.outliers}: never changed (real crashes are data)",
            "split_like": f"{self.split_like}: adj_close is preferred when present",
            "stale": f"{self.stale}: never changed",
            "ohlc": f"{self.ohlc}: never changed",
            "source_disagreement": (
                f"{self.source_disagreement}: sources used in universe order, "
                "missing dates filled from the next source, scaled"
            ),
        }


#: The policy the panel builder applies (import it: ``from rotation.quality import POLICY``).
POLICY = CleaningPolicy()
