"""Concentration of a basket's market cap, and contribution of a set of members to an index.

Two questions of the claims (``../shared/CLAIMS.md``):

* **R7, winner-takes-most**: how concentrated is an AI basket's market cap?
  :func:`concentration` gives the Herfindahl-Hirschman index, the effective
  number of members and the top-k shares on every date.
* **R5, AI supplied most of the S&P 500's gains**: how much of an index's
  return and market-cap increase over a window came from a set of its members?
  :func:`contribution` gives the buy-and-hold decomposition and linked daily
  contributions (Carino, Menchero or GRAP linking, see
  :func:`link_contributions`), with the survivorship and constant-share
  approximations of the data stated in the result.

Helpers: :func:`index_members` (point-in-time membership from stored spells,
ticker changes resolved), :func:`ai_linked_set` (the universe's AI-basket
members that are index members). The published R5 estimates are kept as
constants (:data:`PUBLISHED_RETURN_SHARE`, :data:`PUBLISHED_CAP_INCREASE_SHARE`)
for comparison: the functions compute, they are never calibrated to them.

Everything here is pure (pandas in, frozen results out); nothing reads the store.
:func:`concentration` is a per-date cross-section (row ``t`` uses row ``t``
only), so appending rows never changes a past value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
import pandas as pd

from rotation._typing import DateLike
from rotation.analytics.flows import _frame, _no_negative
from rotation.errors import DataError, ParameterError
from rotation.panel import Panel
from rotation.panel._build import _as_date
from rotation.universe import Universe

__all__ = [
    "LINKING_METHODS",
    "PUBLISHED_CAP_INCREASE_SHARE",
    "PUBLISHED_RETURN_SHARE",
    "PUBLISHED_SINCE",
    "SHARE_CLASS_DUPLICATES",
    "SP500_TICKER_CHANGES",
    "ConcentrationResult",
    "ContributionResult",
    "ai_linked_set",
    "concentration",
    "contribution",
    "IndexWindow",
    "index_members",
    "index_window",
    "link_contributions",
]

#: Published share of the S&P 500's total return since end-2022 supplied by AI-linked
#: stocks (about 75%; late-2025 market commentary, ``../shared/CLAIMS.md`` claim R5).
PUBLISHED_RETURN_SHARE = 0.75
#: Published share of the S&P 500's market-cap increase since end-2022 supplied by
#: AI-linked stocks (about 90%; same source as :data:`PUBLISHED_RETURN_SHARE`).
PUBLISHED_CAP_INCREASE_SHARE = 0.90
#: Start of the window of the published estimates: the last session of 2022.
PUBLISHED_SINCE = "2022-12-30"

#: Listings whose market cap duplicates another listing's: duplicate -> primary.
#: Yahoo's ``marketCap`` (the source of ``../shared/data/sp500``'s snapshot) is the
#: company's total across share classes: GOOG and GOOGL each show all of Alphabet
#: (3.609e12 and 3.611e12 USD on 2026-03-06), likewise FOX/FOXA and NWS/NWSA
#: (BRK.A and BF.A are listed for users who load them). Summing both listings
#: would count the company twice.
SHARE_CLASS_DUPLICATES: Mapping[str, str] = MappingProxyType(
    {"GOOG": "GOOGL", "FOX": "FOXA", "NWS": "NWSA", "BRK.A": "BRK.B", "BF.A": "BF.B"}
)

#: S&P 500 ticker changes of the same company since 2019, ``(date, old, new)``.
#: Provenance: the one-for-one same-day add/remove pairs of
#: ``../shared/data/sp500/changes_since_2019.csv`` (fja05680/sp500) that are
#: ticker changes of a continuing listed company (renames, or a merger the listed
#: company survived under a new ticker), checked against the public record.
#: Mergers that created a new listed entity (MYL->VTRS, WRK->SW, PARA->PSKY) are
#: index replacements, not renames, and are not listed. Used by
#: :func:`index_members` to carry a member's spells over to the ticker its
#: prices are stored under (e.g. FB's spell counts for META).
SP500_TICKER_CHANGES: tuple[tuple[str, str, str], ...] = (
    ("2019-06-01", "HRS", "LHX"),
    ("2019-06-03", "DWDP", "DD"),
    ("2019-08-08", "TMK", "GL"),
    ("2019-10-18", "BHGE", "BKR"),
    ("2019-11-05", "HCP", "PEAK"),
    ("2019-11-05", "SYMC", "NLOK"),
    ("2019-12-05", "CBS", "VIAC"),
    ("2019-12-09", "BBT", "TFC"),
    ("2019-12-10", "JEC", "J"),
    ("2020-04-03", "UTX", "RTX"),
    ("2020-09-18", "CTL", "LUMN"),
    ("2021-08-03", "LB", "BBWI"),
    ("2021-10-04", "COG", "CTRA"),
    ("2022-01-10", "WLTW", "WTW"),
    ("2022-02-17", "VIAC", "PARA"),
    ("2022-04-11", "DISCA", "WBD"),
    ("2022-05-10", "BLL", "BALL"),
    ("2022-06-09", "FB", "META"),
    ("2022-06-28", "ANTM", "ELV"),
    ("2022-11-08", "NLOK", "GEN"),
    ("2023-05-16", "PKI", "RVTY"),
    ("2023-06-07", "FISV", "FI"),
    ("2023-07-10", "RE", "EG"),
    ("2023-08-30", "ABC", "COR"),
    ("2024-02-01", "CDAY", "DAY"),
    ("2024-03-04", "PEAK", "DOC"),
    ("2024-03-25", "FLT", "CPAY"),
    ("2025-11-11", "FI", "FISV"),
)

#: Days by which a ticker change's date may differ from the end of the old ticker's spell.
_RENAME_TOLERANCE_DAYS = 45

#: Linking schemes of :func:`link_contributions`.
LINKING_METHODS = ("carino", "menchero", "grap")

_LINKING_REFS = {
    "carino": "Carino (1999), log-linking",
    "menchero": "Menchero (2000), optimised linking",
    "grap": "GRAP/Frongello (2002): each day scaled by the index's growth before it",
}


# ============================================================================ helpers
def _caps_frame(data: Panel | pd.DataFrame, parameter: str = "data") -> pd.DataFrame:
    if isinstance(data, Panel):
        caps = data.market_caps
    elif isinstance(data, pd.DataFrame):
        caps = data
    else:
        raise ParameterError(parameter, f"expected a Panel or a DataFrame of market caps, got {type(data).__name__}")
    caps = _frame(caps, "market_caps")
    _no_negative(caps, "market_caps")
    return caps


def _symbols(parameter: str, values: Iterable[str] | str) -> list[str]:
    if isinstance(values, str):
        return [values]
    try:
        out = list(values)
    except TypeError:
        raise ParameterError(parameter, f"expected symbols, got {type(values).__name__}") from None
    bad = [v for v in out if not isinstance(v, str)]
    if bad:
        raise ParameterError(parameter, f"expected symbol strings, got {bad[:3]!r}")
    return list(dict.fromkeys(out))


def _ks(k: int | Sequence[int]) -> tuple[int, ...]:
    ks = (k,) if isinstance(k, Integral) else tuple(k)
    if not ks:
        raise ParameterError("k", "give at least one k")
    for v in ks:
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
            raise ParameterError("k", f"each k must be an integer >= 1, got {v!r}")
    return tuple(sorted({int(v) for v in ks}))


def _examples(items: Sequence[str], n: int = 8) -> str:
    items = list(items)
    return ", ".join(items[:n]) + (f", ... ({len(items)} in all)" if len(items) > n else "")


def _last_valid(frame: pd.DataFrame) -> pd.Series:
    """Per column, the date of the last non-NaN value (NaT when none), without a loop over columns."""
    valid = frame.notna().to_numpy()
    pos = len(frame) - 1 - np.argmax(valid[::-1], axis=0)
    dates = frame.index.to_numpy()[pos] if len(frame) else np.array([], dtype="datetime64[ns]")
    return pd.Series(np.where(valid.any(axis=0), dates, np.datetime64("NaT")), index=frame.columns,
                     dtype="datetime64[ns]")


def _day(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def _cap_method_notes(panel: Panel, symbols: Sequence[str]) -> list[str]:
    """What the panel did to the market caps of ``symbols`` (backcast / carried), in words."""
    q = panel.quality
    if q is None or q.empty:
        return []
    notes = []
    back = sorted(set(q.loc[(q["action"] == "cap_backcast") & q["symbol"].isin(symbols), "symbol"]))
    if back:
        notes.append(
            f"Market caps of {len(back)} instruments ({_examples(back, 6)}) are back-cast from a later "
            "observation (cap_method='backcast'; carried forward after it): price x a constant share count, so "
            "buybacks and issuance are ignored, caps measured with adjusted closes are understated in the past by "
            "the dividends paid since, and the share count comes from data later than the dates it is applied to."
        )
    carried = sorted(set(q.loc[(q["action"] == "cap_carried") & q["symbol"].isin(symbols), "symbol"]) - set(back))
    if carried:
        notes.append(
            f"Market caps of {len(carried)} instruments ({_examples(carried, 6)}) are carried forward from "
            "their last observation at a constant share count or supply (no issuance after it)."
        )
    return notes


# ============================================================================ concentration
@dataclass(frozen=True)
class ConcentrationResult:
    """Concentration of baskets' market caps over time.

    All (T, K) frames share the input's dates (rows) and have one column per
    basket. A row is NaN where the basket has fewer than ``min_members``
    members with a cap, coverage below ``min_coverage``, or a zero total.

    Attributes
    ----------
    hhi : DataFrame (T, K)
        Herfindahl-Hirschman index :math:`H_t = \\sum_i s_{i,t}^2` of the
        member shares, in :math:`[1/n_t, 1]` (:math:`n_t` members with a cap).
    effective_number : DataFrame (T, K)
        :math:`1/H_t`: the number of equal-sized members that would give the
        same HHI, in :math:`[1, n_t]`.
    hhi_normalised : DataFrame (T, K)
        :math:`(H_t - 1/n_t)/(1 - 1/n_t)` in [0, 1] (0: equal shares, 1: one
        member holds everything); NaN when :math:`n_t = 1`.
    top : dict of int -> DataFrame (T, K)
        Share of the ``k`` largest members; 1.0 when :math:`n_t \\le k`.
    leader : DataFrame (T, K), object
        Symbol of the largest member (its share is ``top[1]``, when 1 is in
        ``k``); NaN where the row is undefined.
    n_with_cap : DataFrame (T, K)
        :math:`n_t`, members with a market cap on each date.
    n_members : Series (K,)
        Configured members of each basket (with or without data).
    coverage : DataFrame (T, K)
        ``n_with_cap / n_members``.
    shares : dict of str -> DataFrame (T, n)
        Member shares :math:`s_{i,t}` of each basket (NaN where a member has no cap).
    members : dict of str -> list of str
        Members with a market-cap column in the input.
    missing : dict of str -> list of str
        Configured members without a column (no data at all).
    never_capped : dict of str -> list of str
        Members with a column but never a market cap (excluded on every date).
    k : tuple of int
    min_members : int
    min_coverage : float
    notes : tuple of str
        What a reader must know (members excluded, how caps were made).
    """

    hhi: pd.DataFrame
    effective_number: pd.DataFrame
    hhi_normalised: pd.DataFrame
    top: dict[int, pd.DataFrame]
    leader: pd.DataFrame
    n_with_cap: pd.DataFrame
    n_members: pd.Series
    coverage: pd.DataFrame
    shares: dict[str, pd.DataFrame]
    members: dict[str, list[str]]
    missing: dict[str, list[str]]
    never_capped: dict[str, list[str]]
    k: tuple[int, ...]
    min_members: int
    min_coverage: float
    notes: tuple[str, ...] = ()

    def _row(self, basket: str, pos: int | None, label: str) -> dict[str, object]:
        row: dict[str, object] = {"basket": basket, "when": label}
        if pos is None:
            row["date"] = pd.NaT
            for col in ("n_with_cap", "coverage", "hhi", "effective_number", "hhi_normalised"):
                row[col] = np.nan
            row["n_members"] = int(self.n_members[basket])
            row["leader"] = None
            for k in self.k:
                row[f"top_{k}"] = np.nan
            return row
        row["date"] = self.hhi.index[pos]
        row["n_with_cap"] = int(self.n_with_cap[basket].iloc[pos])
        row["n_members"] = int(self.n_members[basket])
        row["coverage"] = float(self.coverage[basket].iloc[pos])
        row["hhi"] = float(self.hhi[basket].iloc[pos])
        row["effective_number"] = float(self.effective_number[basket].iloc[pos])
        row["hhi_normalised"] = float(self.hhi_normalised[basket].iloc[pos])
        row["leader"] = self.leader[basket].iloc[pos]
        for k in self.k:
            row[f"top_{k}"] = float(self.top[k][basket].iloc[pos])
        return row

    def at(self, when: DateLike) -> pd.DataFrame:
        """Each basket as of ``when``: its last row on or before ``when`` with a defined HHI.

        Returns
        -------
        DataFrame
            One row per basket: ``basket, when, date, n_with_cap, n_members,
            coverage, hhi, effective_number, hhi_normalised, leader, top_k...``
            (``date`` NaT and NaN values when nothing is defined by then).
        """
        ts = _as_date("when", when)
        rows = []
        for b in self.hhi.columns:
            valid = self.hhi[b].notna().to_numpy() & (self.hhi.index <= ts)
            pos = int(np.flatnonzero(valid)[-1]) if valid.any() else None
            rows.append(self._row(str(b), pos, _day(ts)))
        return pd.DataFrame(rows)

    def snapshots(self, years: Sequence[int] = (0, 1, 3)) -> pd.DataFrame:
        """Each basket now and ``years`` ago (the headline: latest, 1y ago, 3y ago).

        "Now" is each basket's last date with a defined HHI; ``y`` years ago is
        its last defined date on or before that date minus ``y`` calendar years.

        Returns
        -------
        DataFrame
            One row per (basket, year), columns as in :meth:`at`; ``when`` is
            ``"latest"`` or ``"<y>y ago"``.
        """
        for y in years:
            if isinstance(y, bool) or not isinstance(y, Integral) or y < 0:
                raise ParameterError("years", f"must be integers >= 0, got {y!r}")
        rows = []
        for b in self.hhi.columns:
            defined = self.hhi[b].notna().to_numpy()
            if not defined.any():
                rows += [self._row(str(b), None, "latest" if y == 0 else f"{y}y ago") for y in years]
                continue
            last = self.hhi.index[np.flatnonzero(defined)[-1]]
            for y in years:
                target = last - pd.DateOffset(years=int(y))
                ok = defined & (self.hhi.index <= target)
                pos = int(np.flatnonzero(ok)[-1]) if ok.any() else None
                rows.append(self._row(str(b), pos, "latest" if y == 0 else f"{y}y ago"))
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """The headline table: :meth:`snapshots` for latest, 1 and 3 years ago."""
        return self.snapshots()


def _resolve_baskets(
    data: Panel | pd.DataFrame, baskets: Mapping[str, Sequence[str]] | Sequence[str] | str | None, columns: pd.Index
) -> dict[str, list[str]]:
    if baskets is None:
        return {"all": [str(c) for c in columns]}
    if isinstance(baskets, Mapping):
        if not baskets:
            raise ParameterError("baskets", "is empty")
        return {str(name): _symbols(f"baskets['{name}']", members) for name, members in baskets.items()}
    names = _symbols("baskets", baskets)
    if not names:
        raise ParameterError("baskets", "is empty")
    universe = data.universe if isinstance(data, Panel) else None
    if universe is None:
        raise ParameterError(
            "baskets",
            "basket names need a Panel built with a universe; with a DataFrame pass a mapping name -> members",
        )
    return {name: list(universe.basket(name).members) for name in names}


def concentration(
    data: Panel | pd.DataFrame,
    baskets: Mapping[str, Sequence[str]] | Sequence[str] | str | None = None,
    *,
    k: int | Sequence[int] = (1, 3),
    min_members: int = 1,
    min_coverage: float = 0.0,
) -> ConcentrationResult:
    """Herfindahl index, effective number and top-k shares of baskets' market caps over time.

    For basket *b* on date *t*, with :math:`A_t` its members that have a market
    cap on *t* and :math:`n_t = |A_t|`:

    .. math::

        s_{i,t} = \\frac{C_{i,t}}{\\sum_{j \\in A_t} C_{j,t}}, \\qquad
        H_t = \\sum_{i \\in A_t} s_{i,t}^2, \\qquad
        N^{\\text{eff}}_t = 1 / H_t, \\qquad
        H^*_t = \\frac{H_t - 1/n_t}{1 - 1/n_t}, \\qquad
        \\text{top}_k(t) = \\sum_{j=1}^{\\min(k, n_t)} s_{(j),t}

    with :math:`s_{(1),t} \\ge s_{(2),t} \\ge \\dots` the sorted shares. Equal
    shares give :math:`H = 1/n`, :math:`N^{\\text{eff}} = n`,
    :math:`\\text{top}_k = k/n`; one member with everything gives 1. HHI is
    reported as a fraction (multiply by 10,000 for the antitrust points scale).

    Parameters
    ----------
    data : Panel or DataFrame (T, N)
        Market caps (a Panel's ``market_caps``) in any currency unit; NaN = no cap.
        Build the panel with ``cap_method="backcast"`` when equity caps exist
        only as a later snapshot (as in ``../shared/data``): otherwise equity caps
        start on the snapshot date.
    baskets : mapping of str -> sequence of str, or basket name(s), optional
        Groups of columns. Names are looked up in the Panel's universe (a
        DataFrame needs a mapping). Default: all columns as one group ``"all"``.
    k : int or sequence of int
        Top-k shares to report (default 1 and 3).
    min_members : int
        Dates with fewer members with a cap are NaN (default 1: a lone member
        has HHI 1).
    min_coverage : float in [0, 1]
        Dates where ``n_t / n_members`` (configured members, with or without
        data) is below this are NaN.

    Returns
    -------
    ConcentrationResult
        (T, K) frames for all baskets; vectorised over dates and members (one
        sort of a (T, n) array per basket).

    Raises
    ------
    ParameterError
        Bad ``k``, ``min_members``, ``min_coverage`` or basket spec.
    UniverseError
        Unknown basket name.
    DataError
        Negative caps; a basket none of whose members is a column.

    Notes
    -----
    * Members without a cap on a date are **excluded from that date's shares**
      (the shares are of the covered cap); ``coverage`` and ``n_with_cap`` say
      how many were counted. A member that lists late (or whose caps start
      late) enters on its first cap: the HHI moves because the set changed, not
      because capital moved. Members never capped are listed in
      ``never_capped`` and ``notes``.
    * A zero cap counts as a member with share 0.
    * Row *t* uses row *t* only: no look-ahead beyond what the caps contain
      (back-cast caps use a later snapshot's share count, stated in ``notes``).
    """
    caps = _caps_frame(data)
    ks = _ks(k)
    if isinstance(min_members, bool) or not isinstance(min_members, Integral) or min_members < 1:
        raise ParameterError("min_members", f"must be an integer >= 1, got {min_members!r}")
    if isinstance(min_coverage, bool) or not isinstance(min_coverage, Real) or not 0.0 <= min_coverage <= 1.0:
        raise ParameterError("min_coverage", f"must be a number in [0, 1], got {min_coverage!r}")
    groups = _resolve_baskets(data, baskets, caps.columns)

    index = caps.index
    out: dict[str, dict[str, np.ndarray]] = {}
    shares: dict[str, pd.DataFrame] = {}
    members: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    never: dict[str, list[str]] = {}
    n_members: dict[str, int] = {}
    notes: list[str] = []
    for name, configured in groups.items():
        present = [m for m in configured if m in caps.columns]
        absent = [m for m in configured if m not in caps.columns]
        if not present:
            raise DataError(f"basket {name}: none of its members ({_examples(configured)}) has a market-cap column")
        x = caps[present].to_numpy(dtype="float64")  # (T, n)
        valid = np.isfinite(x)
        xz = np.where(valid, x, 0.0)
        total = xz.sum(axis=1)
        n_cap = valid.sum(axis=1)
        n_conf = len(configured)
        ok = (n_cap >= min_members) & (n_cap / n_conf >= min_coverage) & (total > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = xz / np.where(ok, total, np.nan)[:, None]
        s = np.where(valid, s, np.nan)
        sz = np.where(valid & ok[:, None], s, 0.0)
        hhi = np.where(ok, (sz * sz).sum(axis=1), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            eff = 1.0 / hhi
            inv_n = 1.0 / n_cap
            norm = np.where(ok & (n_cap > 1), (hhi - inv_n) / (1.0 - inv_n), np.nan)
        # descending shares; members without a cap sort last with 0 (they add nothing)
        desc = -np.sort(-sz, axis=1)
        cums = np.cumsum(desc, axis=1)
        tops = {kk: np.where(ok, cums[:, min(kk, len(present)) - 1], np.nan) for kk in ks}
        lead_pos = np.argmax(np.where(valid, x, -np.inf), axis=1)
        leader = np.where(ok, np.asarray(present, dtype=object)[lead_pos], None)
        out[name] = {"hhi": hhi, "eff": eff, "norm": norm, "leader": leader, "n": n_cap.astype(float),
                     "cov": n_cap / n_conf, **{f"top{kk}": v for kk, v in tops.items()}}
        shares[name] = pd.DataFrame(s, index=index, columns=present)
        members[name] = present
        missing[name] = absent
        never[name] = [m for m, any_cap in zip(present, valid.any(axis=0), strict=True) if not any_cap]
        n_members[name] = n_conf
        if absent:
            notes.append(f"{name}: no data for {', '.join(absent)}: counted in coverage, never in the shares")
        if never[name]:
            notes.append(f"{name}: no market cap ever for {', '.join(never[name])}: excluded from every date's shares")
    if isinstance(data, Panel):
        notes += _cap_method_notes(data, sorted({m for ms in members.values() for m in ms}))

    def frame(key: str, dtype: str = "float64") -> pd.DataFrame:
        return pd.DataFrame({n: out[n][key] for n in out}, index=index).astype(dtype)

    return ConcentrationResult(
        hhi=frame("hhi"),
        effective_number=frame("eff"),
        hhi_normalised=frame("norm"),
        top={kk: frame(f"top{kk}") for kk in ks},
        leader=frame("leader", "object"),
        n_with_cap=frame("n"),
        n_members=pd.Series(n_members, dtype="int64"),
        coverage=frame("cov"),
        shares=shares,
        members=members,
        missing=missing,
        never_capped=never,
        k=ks,
        min_members=int(min_members),
        min_coverage=float(min_coverage),
        notes=tuple(notes),
    )


# ============================================================================ membership
def _renames(renames: Iterable[tuple[DateLike, str, str]] | None) -> list[tuple[pd.Timestamp, str, str]]:
    if renames is None:
        return []
    out = []
    for item in renames:
        try:
            when, old, new = item
        except (TypeError, ValueError):
            raise ParameterError("renames", f"expected (date, old, new) triples, got {item!r}") from None
        if not isinstance(old, str) or not isinstance(new, str):
            raise ParameterError("renames", f"tickers must be strings in {item!r}")
        ts = _as_date("renames", when)
        assert ts is not None
        out.append((ts, old, new))
    return sorted(out)


def _resolve_spells(
    spells: pd.DataFrame,
    changes: pd.DataFrame | None,
    renames: Iterable[tuple[DateLike, str, str]] | None,
) -> pd.DataFrame:
    """Spells (symbol, start, end) extended by later changes, with ticker changes merged."""
    if not isinstance(spells, pd.DataFrame):
        raise ParameterError("spells", f"expected a DataFrame (symbol, start_date, end_date), got {type(spells).__name__}")
    need = {"symbol", "start_date", "end_date"}
    if not need <= set(spells.columns):
        raise ParameterError("spells", f"needs columns {sorted(need)}, got {list(spells.columns)}")
    if spells.empty:
        raise DataError("no membership spells: the index's membership is not stored")
    try:
        start = pd.to_datetime(spells["start_date"]).dt.normalize()
        end = pd.to_datetime(spells["end_date"]).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise ParameterError("spells", f"start_date/end_date must be dates ({exc})") from None
    if start.isna().any():
        raise DataError(f"membership spell without a start date for {spells['symbol'][start.isna()].iloc[0]}")
    rows = [[str(s), a, b] for s, a, b in zip(spells["symbol"], start, end, strict=True)]
    known_until = max(start.max(), end.max())
    if changes is not None and len(changes):
        need_c = {"date", "symbol", "action"}
        if not need_c <= set(changes.columns):
            raise ParameterError("changes", f"needs columns {sorted(need_c)}, got {list(changes.columns)}")
        ch = changes.assign(date=pd.to_datetime(changes["date"]).dt.normalize())
        ch = ch[ch["date"] > known_until].sort_values(["date", "action"], ascending=[True, False])
        for when, sym, action in zip(ch["date"], ch["symbol"], ch["action"], strict=True):
            open_rows = [r for r in rows if r[0] == sym and pd.isna(r[2])]
            if action == "remove":
                for r in open_rows:
                    r[2] = when
            elif action == "add":
                if not open_rows:
                    rows.append([str(sym), when, pd.NaT])
            else:
                raise ParameterError("changes", f"action must be 'add' or 'remove', got {action!r}")
    # Spells and change lists disagree by up to a month on some dates (RE -> EG: the spells end RE on
    # 2023-06-10, the changes file says 2023-07-10), so a ticker change applies to the old ticker's
    # spell ending closest to its date, within the tolerance.
    tol = pd.Timedelta(days=_RENAME_TOLERANCE_DAYS)
    for when, old, new in _renames(renames):
        ending = [r for r in rows if r[0] == old and pd.notna(r[2]) and abs(r[2] - when) <= tol]
        if not ending:
            continue
        r = min(ending, key=lambda q: abs(q[2] - when))
        r[0] = new
        # the new ticker's spell that starts when the old one ends continues it
        nxt = [q for q in rows if q is not r and q[0] == new and abs(q[1] - r[2]) <= tol]
        if nxt:
            q = min(nxt, key=lambda q: abs(q[1] - r[2]))
            r[2] = q[2]
            rows.remove(q)
    return pd.DataFrame(rows, columns=["symbol", "start", "end"])


def index_members(
    spells: pd.DataFrame,
    when: DateLike,
    *,
    changes: pd.DataFrame | None = None,
    renames: Iterable[tuple[DateLike, str, str]] | None = SP500_TICKER_CHANGES,
) -> list[str]:
    """Index members on a date, from membership spells (``Store.read_membership``).

    A symbol is a member on *d* when a spell has ``start_date <= d < end_date``
    (``end_date`` NaT/blank = still a member; the removal date is the first day
    out). Spells are read as known until their latest date; ``changes``
    (``Store.read_index_changes``: ``date, symbol, action`` add/remove) dated
    after that extend them. Ticker changes (``renames``: ``(date, old, new)``)
    carry the old ticker's spell ending on (within 45 days of) the change date
    over to the new ticker and join it to the new ticker's next spell, so a
    member is reported under the ticker it trades under after its last change
    (FB's spell counts for META) - the ticker its prices are stored under.

    Parameters
    ----------
    spells : DataFrame
        Columns ``symbol, start_date, end_date``.
    when : date-like
    changes : DataFrame, optional
    renames : iterable of (date, old, new), optional
        Default :data:`SP500_TICKER_CHANGES`; ``None`` for none.

    Returns
    -------
    list of str
        Sorted symbols.

    Raises
    ------
    ParameterError
        Missing columns, bad dates or actions.
    DataError
        No spells.
    """
    ts = _as_date("when", when)
    sp = _resolve_spells(spells, changes, renames)
    inside = (sp["start"] <= ts) & (sp["end"].isna() | (sp["end"] > ts))
    return sorted(set(sp.loc[inside, "symbol"]))


@dataclass(frozen=True)
class IndexWindow:
    """An index's members over a window, from stored membership (the input side of :func:`contribution`).

    Attributes
    ----------
    at_start, at_end : tuple of str
        Members on the window's start and end (:func:`index_members`).
    candidates : frozenset of str
        Everyone who is or was a member by any record: the spells, the index
        changes, the members at either end and every instrument with a GICS
        sector (the constituents list). The default AI-linked set is drawn
        from it (:func:`ai_linked_set`).
    """

    at_start: tuple[str, ...]
    at_end: tuple[str, ...]
    candidates: frozenset[str]

    def panel_symbols(self, the_set: Iterable[str]) -> list[str]:
        """Symbols a panel needs for :func:`contribution`: members at either end plus the set, sorted."""
        return sorted(set(self.at_start) | set(self.at_end) | set(the_set))


def index_window(
    spells: pd.DataFrame,
    start: DateLike,
    end: DateLike | None = None,
    *,
    changes: pd.DataFrame | None = None,
    instruments: pd.DataFrame | None = None,
) -> IndexWindow:
    """Members at both ends of ``[start, end]`` and the pool of index members by any record.

    Parameters
    ----------
    spells : DataFrame
        ``Store.read_membership(index)``: ``symbol, start_date, end_date``.
    start : date-like
    end : date-like, optional
        Default: today.
    changes : DataFrame, optional
        ``Store.read_index_changes(index)``: ``date, symbol, action``.
    instruments : DataFrame, optional
        ``Store.instruments()``; symbols with a non-null ``sector`` count as
        candidates (the constituents list carries GICS sectors).

    Returns
    -------
    IndexWindow
    """
    t1 = end if end is not None else pd.Timestamp.today().normalize()
    at_start = index_members(spells, start, changes=changes)
    at_end = index_members(spells, t1, changes=changes)
    pool = set(spells["symbol"]) | set(at_start) | set(at_end)
    if changes is not None:
        pool |= set(changes["symbol"])
    if instruments is not None and "sector" in instruments.columns:
        pool |= set(instruments.loc[instruments["sector"].notna(), "symbol"])
    return IndexWindow(tuple(at_start), tuple(at_end), frozenset(pool))


def ai_linked_set(
    universe: Universe,
    index_members: Iterable[str] | None = None,
    *,
    roles: Sequence[str] = ("ai",),
    baskets: Sequence[str] | None = None,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> list[str]:
    """The AI-linked members of an index: the union of the universe's AI baskets, filtered.

    Default: every member of the baskets whose ``role`` is ``"ai"``
    (``ai_compute``, ``ai_cloud``, ``ai_datacenter_power`` in the shipped
    universe) that is in ``index_members`` - for the S&P 500: NVDA, AMD, AVGO,
    MU, SMCI, MSFT, AMZN, GOOGL, META, ORCL, EQIX, DLR, VRT, CEG (TSM, ASML and
    ARM are not S&P members).

    Parameters
    ----------
    universe : Universe
    index_members : iterable of str, optional
        Symbols that are (or were) index members; default: no filter.
    roles : sequence of str
        Basket roles whose members count (ignored when ``baskets`` is given).
    baskets : sequence of str, optional
        Explicit basket names instead of roles.
    add, remove : iterable of str
        Symbols added (unfiltered: an explicit choice) or removed afterwards.

    Returns
    -------
    list of str
        In universe-file order, then ``add`` order.

    Raises
    ------
    ParameterError
        No basket with those roles; an empty result.
    UniverseError
        Unknown basket name.
    """
    if baskets is not None:
        names = _symbols("baskets", baskets)
        for n in names:
            universe.basket(n)
    else:
        wanted_roles = set(_symbols("roles", roles))
        names = [n for n, b in universe.baskets.items() if b.role in wanted_roles]
        if not names:
            raise ParameterError("roles", f"the universe has no basket with role {sorted(wanted_roles)}")
    symbols = universe.members(*names)
    if index_members is not None:
        allowed = set(_symbols("index_members", index_members))
        symbols = [s for s in symbols if s in allowed]
    symbols += [s for s in _symbols("add", add) if s not in symbols]
    drop = set(_symbols("remove", remove))
    symbols = [s for s in symbols if s not in drop]
    if not symbols:
        raise ParameterError("index_members", f"no member of {', '.join(names)} is an index member")
    return symbols


# ============================================================================ linking
def _log_ratio(r: np.ndarray) -> np.ndarray:
    """ln(1 + r) / r, with its limit 1 - r/2 + r^2/3 near r = 0."""
    r = np.asarray(r, dtype="float64")
    small = np.abs(r) < 1e-8
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.log1p(r) / np.where(small, 1.0, r)
    return np.where(small, 1.0 - r / 2.0 + r * r / 3.0, out)


def _linking_coefficients(r: np.ndarray, method: str) -> np.ndarray:
    """Per-period multipliers beta_t with sum_t beta_t r_t = prod(1 + r_t) - 1."""
    big_r = float(np.expm1(np.log1p(r).sum()))
    if method == "carino":
        return _log_ratio(r) / float(_log_ratio(np.array([big_r]))[0])
    if method == "menchero":
        n = len(r)
        growth = float(np.expm1(np.log1p(big_r) / n))
        m = 1.0 if abs(big_r) < 1e-15 else (big_r / n) / growth
        b = float((r * r).sum())
        alpha = 0.0 if b == 0.0 else (big_r - m * float(r.sum())) / b
        return m + alpha * r
    # grap: the index's growth up to the start of each period
    return np.exp(np.concatenate([[0.0], np.cumsum(np.log1p(r))[:-1]]))


def link_contributions(
    contributions: pd.DataFrame,
    method: str = "carino",
) -> pd.Series:
    """Link per-period contributions into multi-period ones that add up to the compound return.

    Per-period contributions :math:`c_{i,t}` (e.g. :math:`w_{i,t-1} r_{i,t}`)
    sum to the period's return :math:`r_t = \\sum_i c_{i,t}`; their plain sum
    over time does not add up to the compound return
    :math:`R = \\prod_t (1 + r_t) - 1`. Linking scales period *t* by
    :math:`\\beta_t`, :math:`\\tilde c_i = \\sum_t \\beta_t c_{i,t}`, such that
    :math:`\\sum_i \\tilde c_i = R` exactly:

    * ``carino`` (Carino 1999): :math:`\\beta_t = k_t / K`,
      :math:`k_t = \\ln(1+r_t)/r_t`, :math:`K = \\ln(1+R)/R` (both 1 at 0);
      since :math:`\\sum_t k_t r_t = \\ln(1+R) = K R`.
    * ``menchero`` (Menchero 2000): :math:`\\beta_t = M + \\alpha r_t`,
      :math:`M = (R/n) / ((1+R)^{1/n} - 1)`,
      :math:`\\alpha = (R - M \\sum_t r_t) / \\sum_t r_t^2`.
    * ``grap`` (GRAP, Frongello 2002, for a single portfolio):
      :math:`\\beta_t = \\prod_{s<t}(1 + r_s)`; telescopes to *R*. For a
      buy-and-hold portfolio it gives each member exactly
      :math:`w_{i,0} R_i` (its buy-and-hold contribution).

    Parameters
    ----------
    contributions : DataFrame (T, N)
        Per-period contributions (rows: periods in order, columns: members). NaN
        counts as 0 (no position that period).
    method : {"carino", "menchero", "grap"}

    Returns
    -------
    Series (N,)
        Linked contributions; they sum to :math:`\\prod_t (1 + \\sum_i c_{i,t}) - 1`
        to rounding.

    Raises
    ------
    ParameterError
        Unknown method, not a DataFrame, no rows.
    DataError
        A period return at or below -100% (the logarithm is undefined).
    """
    if method not in LINKING_METHODS:
        raise ParameterError("method", f"must be one of {LINKING_METHODS}, got {method!r}")
    if not isinstance(contributions, pd.DataFrame):
        raise ParameterError("contributions", f"expected a DataFrame (periods x members), got {type(contributions).__name__}")
    if len(contributions) == 0:
        raise ParameterError("contributions", "has no periods")
    try:
        c = contributions.to_numpy(dtype="float64")
    except (TypeError, ValueError) as exc:
        raise ParameterError("contributions", f"values must be numeric ({exc})") from None
    c = np.where(np.isfinite(c), c, 0.0)
    r = c.sum(axis=1)
    if (r <= -1.0).any():
        bad = contributions.index[int(np.flatnonzero(r <= -1.0)[0])]
        raise DataError(f"period return at or below -100% on {bad}: cannot link")
    beta = _linking_coefficients(r, method)
    return pd.Series(beta @ c, index=contributions.columns, name=f"linked_{method}")


# ============================================================================ contribution
@dataclass(frozen=True)
class ContributionResult:
    """Contribution of a set of members to an index's return and market-cap increase.

    Attributes
    ----------
    set_name, index_name : str
    start, end : Timestamp
        Rows used (``start``: last row on or before the requested start).
    linking : str
        Linking scheme of the daily contributions.
    members : tuple of str
        Set members that are constituents (the set used).
    members_left_out : dict of str -> str
        Set members not used, with the reason.
    constituents : tuple of str
        The index: members on ``start`` with a cap and a price then.
    excluded : dict of str -> list of str
        Symbols left out of the index, by reason: ``no data`` (members on
        ``start`` without any data: survivorship), ``no market cap``,
        ``no price``, ``duplicate share class``, ``not a member at start``
        (loaded symbols that joined later).
    n_members_start : int or None
        Index members on ``start`` according to the membership given (None
        when no membership was given).
    table : DataFrame (N, ...)
        Per constituent: ``in_set, cap_start, cap_end, weight_start, weight_end,
        return, contribution, share_of_return, cap_change,
        share_of_cap_increase, linked_contribution, share_of_linked,
        last_price_date`` (the last observed price on or before ``end``). Shares are of the index total; they can exceed 1 or be
        negative when other members fell.
    index_return : float
        Buy-and-hold return :math:`R = \\sum_i w_{i,0} R_i`.
    index_return_linked : float
        :math:`\\prod_t (1 + r_t) - 1` of the daily cap-weighted index.
    cap_start, cap_end, cap_change : float
        Index market cap (sum over constituents) and its change, in the caps' unit.
    set_return_share, set_cap_increase_share, set_linked_share : float
        The set's share of the buy-and-hold return, of the cap increase, and of
        the linked (compound) return; NaN when the total is 0.
    set_weight_start, set_weight_end : float
        The set's share of the index cap at the window's ends.
    linked_residual : float
        :math:`\\sum_i \\tilde c_i - R_{\\text{linked}}` (rounding only).
    daily : DataFrame (T', 5)
        Per day after ``start``: ``index_return``, ``set_contribution``,
        ``other_contribution`` (:math:`\\sum w_{i,t-1} r_{i,t}` over the set /
        the rest), ``index_cumulative`` (compound return since ``start``) and
        ``set_weight`` (the set's share of the index cap at the close).
    notes : tuple of str
        The approximations and exclusions a reader must know.
    published_return_share, published_cap_increase_share : float
        The published R5 estimates, for comparison only.
    """

    set_name: str
    index_name: str
    start: pd.Timestamp
    end: pd.Timestamp
    linking: str
    members: tuple[str, ...]
    members_left_out: dict[str, str]
    constituents: tuple[str, ...]
    excluded: dict[str, list[str]]
    n_members_start: int | None
    table: pd.DataFrame
    index_return: float
    index_return_linked: float
    cap_start: float
    cap_end: float
    cap_change: float
    set_return_share: float
    set_cap_increase_share: float
    set_linked_share: float
    set_weight_start: float
    set_weight_end: float
    linked_residual: float
    daily: pd.DataFrame
    notes: tuple[str, ...] = ()
    published_return_share: float = PUBLISHED_RETURN_SHARE
    published_cap_increase_share: float = PUBLISHED_CAP_INCREASE_SHARE

    def summary(self) -> pd.DataFrame:
        """Headline numbers as a two-column table (``metric``, ``value``)."""
        ex = self.excluded
        rows: list[tuple[str, object]] = [
            ("index", self.index_name),
            ("set", self.set_name),
            ("start", self.start),
            ("end", self.end),
            ("constituents used", len(self.constituents)),
            ("index members on start", self.n_members_start if self.n_members_start is not None else "not given"),
            ("members on start without data (survivorship)", len(ex.get("no data", []))),
            ("members on start without a market cap", len(ex.get("no market cap", []))),
            ("loaded symbols not members on start", len(ex.get("not a member at start", []))),
            ("set members used", len(self.members)),
            ("index return (buy and hold)", self.index_return),
            ("index return (linked daily, compound)", self.index_return_linked),
            ("index cap start", self.cap_start),
            ("index cap end", self.cap_end),
            ("index cap change", self.cap_change),
            ("set weight start", self.set_weight_start),
            ("set weight end", self.set_weight_end),
            ("set share of return (buy and hold)", self.set_return_share),
            (f"set share of return (linked, {self.linking})", self.set_linked_share),
            ("set share of cap increase", self.set_cap_increase_share),
            ("published share of return", self.published_return_share),
            ("published share of cap increase", self.published_cap_increase_share),
        ]
        return pd.DataFrame(rows, columns=["metric", "value"])

    def comparison(self) -> pd.DataFrame:
        """Computed vs published shares (``measure, computed, published, difference``)."""
        rows = [
            ("share of total return", self.set_return_share, self.published_return_share),
            ("share of total return (linked)", self.set_linked_share, self.published_return_share),
            ("share of market-cap increase", self.set_cap_increase_share, self.published_cap_increase_share),
        ]
        out = pd.DataFrame(rows, columns=["measure", "computed", "published"])
        out["difference"] = out["computed"] - out["published"]
        return out

    def to_frame(self) -> pd.DataFrame:
        """The per-constituent table, largest buy-and-hold contribution first."""
        return self.table.sort_values("contribution", ascending=False)


def _constituents_at(
    constituents: Sequence[str] | pd.DataFrame | None,
    start: pd.Timestamp,
    changes: pd.DataFrame | None,
    renames: Iterable[tuple[DateLike, str, str]] | None,
) -> list[str] | None:
    if constituents is None:
        return None
    if isinstance(constituents, pd.DataFrame):
        return index_members(constituents, start, changes=changes, renames=renames)
    out = _symbols("constituents", constituents)
    if not out:
        raise ParameterError("constituents", "is empty")
    return out


def contribution(
    data: Panel | pd.DataFrame,
    members: Iterable[str],
    *,
    start: DateLike,
    end: DateLike | None = None,
    prices: pd.DataFrame | None = None,
    constituents: Sequence[str] | pd.DataFrame | None = None,
    changes: pd.DataFrame | None = None,
    renames: Iterable[tuple[DateLike, str, str]] | None = SP500_TICKER_CHANGES,
    share_classes: Mapping[str, str] | None = SHARE_CLASS_DUPLICATES,
    linking: str = "carino",
    min_coverage: float = 0.5,
    set_name: str = "set",
    index_name: str = "index",
    approximations: Sequence[str] = (),
) -> ContributionResult:
    """Contribution of a set of members to a cap-weighted index's return and market-cap increase.

    The index is rebuilt from its constituents on the window's first row
    :math:`t_0` (members then, with a market cap and a price), cap-weighted.
    Within the window each constituent's last price and cap are carried over
    missing rows (a position held at its last price, as in
    :func:`rotation.panel.basket_index`), so nothing is dropped mid-window.

    **Buy and hold** (weights at the start, :math:`T` the last row):

    .. math::

        w_{i,0} = \\frac{C_{i,t_0}}{\\sum_j C_{j,t_0}}, \\quad
        R_i = \\frac{P_{i,T}}{P_{i,t_0}} - 1, \\quad
        c_i = w_{i,0} R_i, \\quad R = \\sum_i c_i

    and the market-cap increase :math:`\\Delta C_i = C_{i,T} - C_{i,t_0}`. The
    set's shares are :math:`\\sum_{i\\in S} c_i / R` and
    :math:`\\sum_{i\\in S} \\Delta C_i / \\sum_i \\Delta C_i`; either can exceed 100%
    (or be negative) when the other members fell.

    **Linked daily** contributions: :math:`c_{i,t} = w_{i,t-1} r_{i,t}` with
    :math:`w_{i,t-1} = C_{i,t-1}/\\sum_j C_{j,t-1}` (the daily cap-weighted
    index, :math:`r_t = \\sum_i c_{i,t}`), linked over the window by
    :func:`link_contributions` so that they add up exactly to the compound
    index return :math:`\\prod_t (1 + r_t) - 1`. When caps move exactly with the
    prices (constant share counts, e.g. ``cap_method="backcast"`` or
    ``"carry"`` without issuance) this daily index *is* the buy-and-hold index
    (same compound return) and ``linking="grap"`` reproduces the buy-and-hold
    contributions member by member; ``carino`` and ``menchero`` distribute the
    compounding differently over time.

    Parameters
    ----------
    data : Panel or DataFrame (T, N)
        Market caps (a Panel's ``market_caps``; its ``prices`` are used unless
        ``prices`` is given, and its ``last_observed`` sets the default ``end``).
    members : iterable of str
        The set (e.g. :func:`ai_linked_set`). A share-class duplicate
        (:data:`SHARE_CLASS_DUPLICATES`) stands for its primary listing.
    start : date-like
        Window start (the last row on or before it is used, e.g.
        :data:`PUBLISHED_SINCE`).
    end : date-like, optional
        Window end (last row on or before it). Default: the latest date on
        which at least ``min_coverage`` of the constituents still have an
        observed price (Panel: ``last_observed``; DataFrame: last non-NaN price),
        so forward-filled rows at the end do not count as flat returns.
    prices : DataFrame (T, N), optional
        Prices for returns (total-return adjusted closes for a total-return
        decomposition); same dates as the caps. Required with a DataFrame.
    constituents : sequence of str or DataFrame, optional
        The index's members: a list (fixed), or membership spells
        (``symbol, start_date, end_date``, from ``Store.read_membership``) read
        on ``start`` by :func:`index_members`. Default: every column with a cap
        and a price on ``start`` (membership not checked: stated in ``notes``).
    changes, renames
        Passed to :func:`index_members` when ``constituents`` are spells.
    share_classes : mapping duplicate -> primary, optional
        Listings dropped when their primary is also a constituent (their cap
        duplicates it); default :data:`SHARE_CLASS_DUPLICATES`. ``None`` when
        your caps are per share class.
    linking : {"carino", "menchero", "grap"}
    min_coverage : float in (0, 1]
        For the default ``end``.
    set_name, index_name : str
        Labels.
    approximations : sequence of str
        More notes to carry in the result (e.g. how the data were made).

    Returns
    -------
    ContributionResult

    Raises
    ------
    ParameterError
        Bad arguments (no prices for a DataFrame, misaligned prices, unknown
        linking, empty set).
    DataError
        Window outside the data or without rows after its start; no
        constituent with a cap and a price on ``start``; no set member among
        the constituents; non-positive prices.

    Examples
    --------
    The S&P 500 from the store (what ``rotation contribution`` does)::

        spells, changes = store.read_membership("SP500"), store.read_index_changes("SP500")
        at_start = index_members(spells, PUBLISHED_SINCE, changes=changes)
        ai = ai_linked_set(universe, set(spells["symbol"]) | set(changes["symbol"]))
        panel = build_panel(store, universe, symbols=sorted(set(at_start) | set(ai)), cap_method="backcast")
        res = contribution(panel, ai, start=PUBLISHED_SINCE, constituents=spells, changes=changes)
        res.comparison()          # computed vs the published ~75% / ~90%

    Notes
    -----
    What the data cannot show, stated in ``notes``: (1) survivorship -
    constituents on ``start`` without data (removed from the index since, when
    the data holds today's members only) are missing, counted in
    ``excluded["no data"]``; without ``constituents`` membership is not checked
    at all; (2) constant shares - when caps move exactly with prices the
    cap-increase share equals the return share by construction, and
    buybacks/issuance are ignored; (3) members that join the index during the
    window are not in the buy-and-hold index (the published index's cap
    increase includes them); (4) the S&P 500 is float-adjusted and price-only,
    these caps are full and the returns whatever ``prices`` are (adjusted
    closes: dividends reinvested).
    """
    if linking not in LINKING_METHODS:
        raise ParameterError("linking", f"must be one of {LINKING_METHODS}, got {linking!r}")
    if isinstance(min_coverage, bool) or not isinstance(min_coverage, Real) or not 0.0 < min_coverage <= 1.0:
        raise ParameterError("min_coverage", f"must be a number in (0, 1], got {min_coverage!r}")
    caps = _caps_frame(data)
    panel = data if isinstance(data, Panel) else None
    if prices is None:
        if panel is None:
            raise ParameterError("prices", "give prices (e.g. adjusted closes) with a DataFrame of market caps")
        prices = panel.prices
    px = _frame(prices, "prices")
    if not px.index.equals(caps.index):
        raise ParameterError("prices", "must have the same dates as the market caps")
    px = px.reindex(columns=caps.columns)
    nonpos = px.le(0.0)
    if nonpos.to_numpy().any():
        col = nonpos.any()[lambda s: s].index[0]
        raise DataError(f"prices: non-positive price in column '{col}' on {px.index[nonpos[col].to_numpy()][0].date()}")
    wanted = _symbols("members", members)
    if not wanted:
        raise ParameterError("members", "the set is empty")
    set_name, index_name = str(set_name), str(index_name)
    dup_map = dict(share_classes or {})

    # ---- window start
    idx = caps.index
    s_req = _as_date("start", start)
    assert s_req is not None
    s_pos = int(idx.searchsorted(s_req, side="right")) - 1
    if s_pos < 0:
        raise DataError(f"start {s_req.date()} is before the first date of the data ({idx[0].date()})")
    t0 = idx[s_pos]

    # ---- constituents on t0
    given = _constituents_at(constituents, t0, changes, renames)
    cap0 = caps.iloc[s_pos]
    px0 = px.iloc[s_pos]
    has0 = cap0.notna() & px0.notna()
    excluded: dict[str, list[str]] = {}
    if given is None:
        pool = [c for c in caps.columns if has0[c]]
        outsiders: list[str] = []
    else:
        pool = given
        in_pool = set(pool)
        # loaded symbols that were not members then (for today's members: those that joined later)
        loaded = caps.notna().any() | px.notna().any()
        outsiders = [c for c in caps.columns if loaded[c] and c not in in_pool]
    no_data = [p for p in pool if p not in caps.columns or (caps[p].isna().all() and px[p].isna().all())]
    no_cap = [p for p in pool if p not in set(no_data) and pd.isna(cap0[p])]
    no_price = [p for p in pool if p not in set(no_data) | set(no_cap) and pd.isna(px0[p])]
    bad = set(no_data) | set(no_cap) | set(no_price)
    usable = [p for p in pool if p not in bad]
    # a duplicate listing goes only when its primary is itself usable (else it stands for the company)
    dups = [d for d in usable if d in dup_map and dup_map[d] != d and dup_map[d] in set(usable)]
    used = [p for p in usable if p not in set(dups)]
    outsiders = [o for o in outsiders if not (o in dup_map and dup_map[o] in set(used))]
    for reason, syms in (("no data", no_data), ("no market cap", no_cap), ("no price", no_price),
                         ("duplicate share class", dups), ("not a member at start", outsiders)):
        if syms:
            excluded[reason] = syms
    if not used:
        raise DataError(
            f"no {index_name} constituent has a market cap and a price on {t0.date()}"
            + (f" (members then: {len(pool)}, without data {len(no_data)}, without a cap {len(no_cap)})" if pool else "")
        )

    # ---- the set
    set_used: list[str] = []
    left_out: dict[str, str] = {}
    used_set = set(used)
    for m in wanted:
        sym = dup_map.get(m, m) if m not in used_set and dup_map.get(m) in used_set else m
        if sym in used_set:
            if sym not in set_used:
                set_used.append(sym)
        elif m in set(no_data):
            left_out[m] = f"a member on {t0.date()} without data"
        elif m in set(no_cap):
            left_out[m] = f"no market cap on {t0.date()}"
        elif m in set(no_price):
            left_out[m] = f"no price on {t0.date()}"
        elif m in caps.columns and given is not None:
            left_out[m] = f"not an {index_name} member on {t0.date()}"
        elif m in caps.columns:
            left_out[m] = f"no market cap or price on {t0.date()}"
        else:
            left_out[m] = "no data"
    if not set_used:
        raise DataError(
            f"none of the set's members is an {index_name} constituent with a cap and a price on {t0.date()}: "
            + "; ".join(f"{k} ({v})" for k, v in left_out.items())
        )

    # ---- window end
    if end is not None:
        e_req = _as_date("end", end)
        assert e_req is not None
        if e_req < s_req:
            raise ParameterError("end", f"end {e_req.date()} is before start {s_req.date()}")
        e_pos = int(idx.searchsorted(e_req, side="right")) - 1
    else:
        if panel is not None:
            lasts = panel.last_observed.reindex(used)
        else:
            lasts = _last_valid(px[used])
        lasts = pd.to_datetime(lasts).dropna().sort_values(ascending=False)
        k = max(1, int(np.ceil(min_coverage * len(lasts))))
        e_pos = int(idx.searchsorted(lasts.iloc[k - 1], side="right")) - 1 if len(lasts) else len(idx) - 1
    if e_pos <= s_pos:
        raise DataError(f"no row after the start {t0.date()} up to the end {idx[max(e_pos, 0)].date()}")
    t1 = idx[e_pos]

    # ---- window arrays: last price/cap carried over missing rows (position held)
    win_px = px.iloc[s_pos : e_pos + 1][used]
    last_price = _last_valid(win_px)
    if panel is not None:
        lo = panel.last_observed.reindex(used)
        last_price = lo.where(lo.notna() & (lo < last_price), last_price)
    p = win_px.ffill().to_numpy()
    c = caps.iloc[s_pos : e_pos + 1][used].ffill().to_numpy()
    in_set = np.isin(np.asarray(used, dtype=object), np.asarray(set_used, dtype=object))

    # buy and hold
    w0 = c[0] / c[0].sum()
    r_i = p[-1] / p[0] - 1.0
    contrib = w0 * r_i
    big_r = float(contrib.sum())
    d_cap = c[-1] - c[0]
    total_dc = float(d_cap.sum())
    w_end = c[-1] / c[-1].sum()

    # linked daily (matrix form: rows = days after t0)
    r_daily = p[1:] / p[:-1] - 1.0
    w_prev = c[:-1] / c[:-1].sum(axis=1, keepdims=True)
    c_daily = w_prev * r_daily
    r_index = c_daily.sum(axis=1)
    days = idx[s_pos + 1 : e_pos + 1]
    linked = link_contributions(pd.DataFrame(c_daily, index=days, columns=used), linking).to_numpy()
    r_link = float(np.expm1(np.log1p(r_index).sum()))
    residual = float(linked.sum() - r_link)

    def share(x: float, total: float) -> float:
        return float(x / total) if total != 0 else np.nan

    table = pd.DataFrame(
        {
            "in_set": in_set,
            "cap_start": c[0],
            "cap_end": c[-1],
            "weight_start": w0,
            "weight_end": w_end,
            "return": r_i,
            "contribution": contrib,
            "share_of_return": contrib / big_r if big_r != 0 else np.nan,
            "cap_change": d_cap,
            "share_of_cap_increase": d_cap / total_dc if total_dc != 0 else np.nan,
            "linked_contribution": linked,
            "share_of_linked": linked / r_link if r_link != 0 else np.nan,
            "last_price_date": pd.to_datetime(last_price.reindex(used)).to_numpy(),
        },
        index=pd.Index(used, name="symbol"),
    )
    cap_set = c[:, in_set].sum(axis=1)
    daily = pd.DataFrame(
        {
            "index_return": r_index,
            "set_contribution": c_daily[:, in_set].sum(axis=1),
            "other_contribution": c_daily[:, ~in_set].sum(axis=1),
            "index_cumulative": np.expm1(np.cumsum(np.log1p(r_index))),
            "set_weight": (cap_set / c.sum(axis=1))[1:],
        },
        index=pd.DatetimeIndex(days, name="date"),
    )

    notes = _contribution_notes(
        panel=panel, index_name=index_name, set_name=set_name, t0=t0, t1=t1, given=given,
        pool=pool, excluded=excluded, dup_map=dup_map, used=used, p=p, c=c, last_price=table["last_price_date"],
        linking=linking, r_link=r_link, residual=residual, left_out=left_out,
    )
    notes += [str(a) for a in approximations]
    return ContributionResult(
        set_name=set_name,
        index_name=index_name,
        start=t0,
        end=t1,
        linking=linking,
        members=tuple(set_used),
        members_left_out=left_out,
        constituents=tuple(used),
        excluded=excluded,
        n_members_start=len(pool) if given is not None else None,
        table=table,
        index_return=big_r,
        index_return_linked=r_link,
        cap_start=float(c[0].sum()),
        cap_end=float(c[-1].sum()),
        cap_change=total_dc,
        set_return_share=share(float(contrib[in_set].sum()), big_r),
        set_cap_increase_share=share(float(d_cap[in_set].sum()), total_dc),
        set_linked_share=share(float(linked[in_set].sum()), r_link),
        set_weight_start=float(w0[in_set].sum()),
        set_weight_end=float(w_end[in_set].sum()),
        linked_residual=residual,
        daily=daily,
        notes=tuple(notes),
    )


def _contribution_notes(
    *,
    panel: Panel | None,
    index_name: str,
    set_name: str,
    t0: pd.Timestamp,
    t1: pd.Timestamp,
    given: list[str] | None,
    pool: list[str],
    excluded: dict[str, list[str]],
    dup_map: dict[str, str],
    used: list[str],
    p: np.ndarray,
    c: np.ndarray,
    last_price: pd.Series,
    linking: str,
    r_link: float,
    residual: float,
    left_out: dict[str, str],
) -> list[str]:
    notes = [
        f"Buy-and-hold {index_name} of its {len(used)} constituents on {_day(t0)} (cap weights then); members "
        "that joined later are not in it. Caps are full (not float-adjusted) and returns are those of the "
        "prices given (adjusted closes: dividends reinvested), so the index is not the published price index."
    ]
    if given is None:
        notes.append(
            f"Survivorship: constituents are every column with a cap and a price on {_day(t0)}; membership was "
            "not checked. If the data holds today's members only (as ../shared/data/sp500 does), members removed "
            "since are missing (the index is the survivors', biased upward) and later entrants are included."
        )
    else:
        missing = excluded.get("no data", [])
        if missing:
            notes.append(
                f"Survivorship: {len(missing)} of the {len(pool)} {index_name} members on {_day(t0)} have no data "
                f"({_examples(missing)}): removed from the index since (or not loaded), they are missing, so the "
                "index is the survivors' (biased toward winners) and every share is a share of the survivors' gain."
            )
        later = excluded.get("not a member at start", [])
        if later:
            notes.append(
                f"{len(later)} loaded symbols were not {index_name} members on {_day(t0)} (with today's members: "
                f"those that joined later; {_examples(later)}): left out of the buy-and-hold index."
            )
    if excluded.get("no market cap"):
        syms = excluded["no market cap"]
        notes.append(f"{len(syms)} members on {_day(t0)} have no market cap ({_examples(syms)}): left out, "
                     "their weight is unknown.")
    if excluded.get("no price"):
        syms = excluded["no price"]
        notes.append(f"{len(syms)} members on {_day(t0)} have a cap but no price then ({_examples(syms)}): left out.")
    for d in excluded.get("duplicate share class", []):
        notes.append(
            f"Share classes: {d} left out, its market cap duplicates {dup_map[d]}'s (Yahoo's marketCap is the "
            "company's total across classes); pass share_classes=None when caps are per class."
        )
    # constant shares: cap / price constant over the window for every constituent
    units = c / p
    spread = np.nanmax(units, axis=0) / np.nanmin(units, axis=0) - 1.0
    constant = spread < 1e-9
    if constant.all():
        notes.append(
            "Constant shares: every constituent's cap moves exactly with its price over the window (a constant "
            "share count), so its cap increase is its start cap times its return and the set's share of the cap "
            "increase equals its share of the return by construction. Buybacks and issuance are ignored; the "
            "published ~75% (return) vs ~90% (cap increase) gap comes from them, from index entrants and from "
            "price vs total return."
        )
    elif constant.any():
        notes.append(f"{int(constant.sum())} of {len(used)} constituents have caps that move exactly with their "
                     "prices over the window (constant share counts: no buybacks or issuance).")
    if panel is not None:
        notes += _cap_method_notes(panel, used)
    stale = last_price[last_price < t1]
    if len(stale):
        notes.append(f"{len(stale)} constituents have no observed price after an earlier date "
                     f"({_examples(list(stale.index))}): held at their last price (zero return) until {_day(t1)}.")
    if left_out:
        notes.append(f"{set_name} members left out: " + "; ".join(f"{k} ({v})" for k, v in left_out.items()))
    notes.append(
        f"Linked daily contributions: {_LINKING_REFS[linking]}; they add up to the compound index return "
        f"{r_link:.4%} (difference {residual:.1e})."
    )
    notes.append(
        f"Published estimates for comparison only (../shared/CLAIMS.md R5): AI-linked stocks supplied about "
        f"{PUBLISHED_RETURN_SHARE:.0%} of the S&P 500's total return and about {PUBLISHED_CAP_INCREASE_SHARE:.0%} "
        f"of its market-cap increase since end-2022."
    )
    return notes
