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

    Only two problems change numbers: non-positive prices (dropped) and short
    gaps (carried forward). Everything else is flagged in ``panel.quality`` and
    left exactly as stored, because a real crash or a real 50 % day is data,
    not an error, and a silent "fix" would bias every downstream statistic.

    Attributes
    ----------
    non_positive : str
        ``"drop"``: a price field (open, high, low, close, adj_close) <= 0 is
        set to NaN before anything else; the row's other fields are kept.
        Quality action ``dropped``.
    max_gap : int
        Gaps of up to this many missing calendar periods (sessions for
        exchange-traded instruments, days for crypto) are forward-filled and
        flagged (quality action ``filled``); longer gaps stay NaN so a return
        is never invented across a long hole. The panel's ``max_gap``
        argument overrides this default.
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
        ``"flag"``: the panel reads each instrument's primary source; pairs of
        sources whose returns disagree are reported so the user can choose.
    """

    non_positive: str = "drop"
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
            "non_positive": f"{self.non_positive}: price fields <= 0 become NaN",
            "gaps": f"{self.gap_fill} up to {self.max_gap} missing periods, flagged; longer gaps stay NaN",
            "outliers": f"{self.outliers}: never changed (real crashes are data)",
            "split_like": f"{self.split_like}: adj_close is preferred when present",
            "stale": f"{self.stale}: never changed",
            "ohlc": f"{self.ohlc}: never changed",
            "source_disagreement": f"{self.source_disagreement}: the primary source is used",
        }


#: The policy the panel builder applies (import it: ``from rotation.quality import POLICY``).
POLICY = CleaningPolicy()
