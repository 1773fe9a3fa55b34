"""Basket index: hand-computed examples, an independent holdings simulation, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotation.errors import DataError, ParameterError
from rotation.panel import REBALANCE_RULES, basket_index

NAN = np.nan


# ----------------------------------------------------------------------------- hand-computed
def _equal_monthly_example() -> pd.DataFrame:
    """3 members over a month end (January -> February 2024).

    A trades every day except 02-05 (a one-day gap), B is delisted after
    01-30, C lists on 01-29 (after the index started on 01-26).
    """
    dates = pd.to_datetime(
        ["2024-01-26", "2024-01-29", "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-05",
         "2024-02-06"]
    )
    return pd.DataFrame(
        {
            "A": [100.0, 110.0, 99.0, 108.9, 119.79, 119.79, NAN, 131.769],
            "B": [50.0, 55.0, 60.5, NAN, NAN, NAN, NAN, NAN],
            "C": [NAN, 20.0, 22.0, 24.2, 21.78, 23.958, 23.958, 21.5622],
        },
        index=pd.DatetimeIndex(dates, name="date"),
    )


def test_equal_weight_monthly_hand_computed() -> None:
    px = _equal_monthly_example()
    idx = basket_index(px, weighting="equal", rebalance="M", name="toy")
    # 01-26 start: A and B have prices, C not yet listed -> w = (1/2, 1/2, 0), L = 100.
    # 01-29: rA = 110/100-1 = +10 %, rB = 55/50-1 = +10 %      R = .5(.1)+.5(.1) = .10     L = 110
    #        drift: wA = .5(1.1)/1.1 = .5, wB = .5             (C listed today, weight 0 until a reset)
    # 01-30: rA = 99/110-1 = -10 %, rB = 60.5/55-1 = +10 %     R = .5(-.1)+.5(.1) = 0      L = 110
    #        drift: wA = .45, wB = .55
    # 01-31: rA = 108.9/99-1 = +10 %, B delisted -> held, 0    R = .45(.1) = .045         L = 114.95
    #        drift: wA = .495/1.045, wB = .55/1.045
    # 02-01 (new month): reset from the 01-31 close: A and C have prices, B not -> (1/2, 0, 1/2)
    #        rA = 119.79/108.9-1 = +10 %, rC = 21.78/24.2-1 = -10 %    R = 0             L = 114.95
    #        drift: wA = .55, wC = .45
    # 02-02: rA = 0, rC = 23.958/21.78-1 = +10 %               R = .45(.1) = .045         L = 120.12275
    #        drift: wA = .55/1.045, wC = .495/1.045
    # 02-05: A has no price (gap) -> 0, rC = 0                  R = 0                      L = 120.12275
    # 02-06: rA = 131.769/119.79-1 = +10 % (the gap's move, against the last price), rC = -10 %
    #        R = (.55(.1) + .495(-.1))/1.045 = .0055/1.045      L = 120.12275 + 114.95(.0055) = 120.754975
    expected_level = [100.0, 110.0, 110.0, 114.95, 114.95, 120.12275, 120.12275, 120.754975]
    expected_ret = [NAN, 0.10, 0.0, 0.045, 0.0, 0.045, 0.0, 0.0055 / 1.045]
    np.testing.assert_allclose(idx.level.to_numpy(), expected_level, rtol=1e-12)
    np.testing.assert_allclose(idx.returns.to_numpy(), expected_ret, rtol=1e-12, atol=1e-15)
    assert idx.level.name == "toy"
    assert idx.rebalance == "M" and idx.weighting == "equal"
    # Weights applied to each date's returns.
    w = idx.weights
    np.testing.assert_allclose(w.loc["2024-01-29"].to_numpy(), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(w.loc["2024-01-31"].to_numpy(), [0.45, 0.55, 0.0])
    np.testing.assert_allclose(w.loc["2024-02-01"].to_numpy(), [0.5, 0.0, 0.5])  # B left, C joined
    np.testing.assert_allclose(w.loc["2024-02-06"].to_numpy(), [0.55 / 1.045, 0.0, 0.495 / 1.045])
    assert idx.n_members.tolist() == [0, 2, 2, 2, 2, 2, 2, 2]


def test_cap_weighted_daily_hand_computed() -> None:
    dates = pd.DatetimeIndex(pd.to_datetime(["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]), name="date")
    px = pd.DataFrame({"X": [10.0, 11.0, 12.1, 11.0], "Y": [20.0, 20.0, 22.0, 22.0]}, index=dates)
    # Caps move with issuance too, so cap weights are not just drifted price weights.
    caps = pd.DataFrame({"X": [100.0, 120.0, 150.0, 140.0], "Y": [300.0, 300.0, 350.0, 350.0]}, index=dates)
    idx = basket_index(px, weighting="cap", caps=caps)
    assert idx.rebalance == "D"  # the cap default: a float-cap index
    # 03-04 start: w from 03-04 caps = (100/400, 300/400) = (.25, .75)        L = 100
    # 03-05: w from 03-04 caps (.25, .75); rX = +10 %, rY = 0   R = .025         L = 102.5
    # 03-06: w from 03-05 caps (120/420, 300/420) = (2/7, 5/7); rX = rY = +10 %  L = 112.75
    # 03-07: w from 03-06 caps (150/500, 350/500) = (.3, .7); rX = 11/12.1-1 = -1/11, rY = 0
    #        R = -.3/11                                                          L = 112.75 - 3.075 = 109.675
    np.testing.assert_allclose(idx.level.to_numpy(), [100.0, 102.5, 112.75, 109.675], rtol=1e-12)
    np.testing.assert_allclose(idx.weights.loc["2024-03-06"].to_numpy(), [2 / 7, 5 / 7])
    np.testing.assert_allclose(idx.weights.loc["2024-03-07"].to_numpy(), [0.3, 0.7])


def test_cap_weighting_skips_members_without_a_cap_on_the_eve() -> None:
    dates = pd.DatetimeIndex(pd.date_range("2024-03-04", periods=3, freq="B"), name="date")
    px = pd.DataFrame({"X": [10.0, 11.0, 11.0], "Y": [20.0, 22.0, 24.2]}, index=dates)
    caps = pd.DataFrame({"X": [100.0, 110.0, 110.0], "Y": [NAN, 100.0, 110.0]}, index=dates)
    idx = basket_index(px, weighting="cap", caps=caps)
    # Y has no cap on 03-04, so only X is held on 03-05: R = +10 %; on 03-06 w = (110/210, 100/210).
    np.testing.assert_allclose(idx.level.to_numpy(), [100.0, 110.0, 110.0 * (1 + (100 / 210) * 0.1)])


def test_notes_name_members_without_prices_or_caps() -> None:
    dates = pd.DatetimeIndex(pd.date_range("2024-03-04", periods=3, freq="B"), name="date")
    px = pd.DataFrame({"X": [10.0, 11.0, 11.0], "Y": [20.0, 22.0, 24.2]}, index=dates)
    caps = pd.DataFrame({"X": [100.0, 110.0, 110.0], "Y": [NAN, NAN, NAN]}, index=dates)
    idx = basket_index(px, ["X", "Y", "Z"], weighting="cap", caps=caps)
    assert any("Z" in n and "no prices" in n for n in idx.notes)
    assert any("Y" in n and "no market cap" in n for n in idx.notes)
    np.testing.assert_allclose(idx.level.to_numpy(), [100.0, 110.0, 110.0])  # X alone


def test_min_members_delays_the_start() -> None:
    px = _equal_monthly_example()[["A", "C"]]
    idx = basket_index(px, min_members=2, rebalance="D")
    assert idx.level.first_valid_index() == pd.Timestamp("2024-01-29")  # C lists on 01-29
    assert np.isnan(idx.level.iloc[0])
    assert idx.level.loc["2024-01-29"] == 100.0


def test_weekly_rule_resets_on_the_first_row_of_each_w_fri_week() -> None:
    dates = pd.DatetimeIndex(pd.date_range("2024-06-05", "2024-06-12", freq="B"), name="date")  # Wed .. Wed
    px = pd.DataFrame({"A": [100.0, 110.0, 121.0, 121.0, 121.0, 121.0], "B": [100.0] * 6}, index=dates)
    idx = basket_index(px, rebalance="W")
    w = idx.weights
    # Wed 06-05 start (.5/.5); Thu: A +10 %; Fri: still drifting (same week); Mon 06-10: reset to .5/.5.
    np.testing.assert_allclose(w.loc["2024-06-07"].to_numpy(), [0.55 / 1.05, 0.5 / 1.05])
    np.testing.assert_allclose(w.loc["2024-06-10"].to_numpy(), [0.5, 0.5])


# ------------------------------------------------------------------ independent implementation
def _holdings_index(
    prices: pd.DataFrame, caps: pd.DataFrame | None, rule: str, base: float = 100.0
) -> pd.Series:
    """A buy-and-hold portfolio in shares, rebalanced on the first row of each period.

    Written independently of the weight-drift formulas: positions are share
    counts; a member without a price today is valued at its last price; at a
    reset the portfolio's value at the previous close is re-invested at the
    target weights over members with a price (and a cap) at that close.
    """
    dates = prices.index
    last = prices.ffill()
    if rule == "D":
        period = list(range(len(dates)))
    else:
        period = list(dates.to_period({"W": "W-FRI", "M": "M", "Q": "Q"}[rule]))
    level = pd.Series(np.nan, index=dates)
    shares: pd.Series | None = None

    def targets(i: int) -> pd.Series | None:
        p = prices.iloc[i]
        ok = p.notna() & (p > 0)
        if caps is not None:
            c = caps.iloc[i]
            ok &= c.notna() & (c > 0)
            weights = c.where(ok, 0.0)
        else:
            weights = ok.astype(float)
        return None if weights.sum() <= 0 else weights / weights.sum()

    for i in range(len(dates)):
        if shares is None:
            w = targets(i)
            if w is not None:
                level.iloc[i] = base
                shares = (base * w / prices.iloc[i]).fillna(0.0)
            continue
        if period[i] != period[i - 1]:
            w = targets(i - 1)
            if w is not None:
                shares = (level.iloc[i - 1] * w / prices.iloc[i - 1]).fillna(0.0)
        level.iloc[i] = float((shares * last.iloc[i].fillna(0.0)).sum())
    return level


def _random_panel(seed: int, n_days: int = 90, n_members: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    dates = pd.DatetimeIndex(pd.bdate_range("2023-11-01", periods=n_days), name="date")
    rets = rng.normal(0.0005, 0.03, size=(n_days, n_members))
    px = 50 * np.exp(np.cumsum(rets, axis=0))
    shares = rng.uniform(1e6, 5e6, size=n_members) * np.exp(np.cumsum(rng.normal(0, 0.01, (n_days, n_members)), 0))
    caps = px * shares
    px[rng.random(px.shape) < 0.06] = np.nan  # scattered gaps
    px[: rng.integers(5, 30), 1] = np.nan  # a late listing
    px[rng.integers(40, 80):, 2] = np.nan  # a delisting
    caps[rng.random(caps.shape) < 0.05] = np.nan
    cols = [f"S{i}" for i in range(n_members)]
    return pd.DataFrame(px, index=dates, columns=cols), pd.DataFrame(caps, index=dates, columns=cols)


@pytest.mark.parametrize("rule", REBALANCE_RULES)
@pytest.mark.parametrize("weighting", ["equal", "cap"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_a_holdings_simulation_in_shares(rule: str, weighting: str, seed: int) -> None:
    px, caps = _random_panel(seed)
    use_caps = caps if weighting == "cap" else None
    idx = basket_index(px, weighting=weighting, caps=use_caps, rebalance=rule)
    expected = _holdings_index(px, use_caps, rule)
    pd.testing.assert_series_equal(idx.level, expected, check_names=False, rtol=1e-10)


# ------------------------------------------------------------------------------- errors
def test_unknown_weighting_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError) as err:
        basket_index(_equal_monthly_example(), weighting="price")
    assert err.value.parameter == "weighting"


def test_cap_weighting_without_caps_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError) as err:
        basket_index(_equal_monthly_example(), weighting="cap")
    assert err.value.parameter == "caps"


def test_caps_on_another_index_are_refused() -> None:
    px = _equal_monthly_example()
    with pytest.raises(ParameterError) as err:
        basket_index(px, weighting="cap", caps=px.iloc[1:])
    assert err.value.parameter == "caps"


@pytest.mark.parametrize(("kwargs", "parameter"), [({"rebalance": "Y"}, "rebalance"), ({"min_members": 0}, "min_members")])
def test_bad_options_name_the_parameter(kwargs: dict, parameter: str) -> None:
    with pytest.raises(ParameterError) as err:
        basket_index(_equal_monthly_example(), **kwargs)
    assert err.value.parameter == parameter


def test_unsorted_prices_are_refused() -> None:
    with pytest.raises(ParameterError) as err:
        basket_index(_equal_monthly_example().iloc[::-1])
    assert err.value.parameter == "prices"


def test_no_eligible_member_is_a_data_error() -> None:
    px = _equal_monthly_example() * np.nan
    with pytest.raises(DataError, match="never 1 eligible"):
        basket_index(px, name="empty")


def test_no_member_with_prices_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no member"):
        basket_index(_equal_monthly_example(), ["X", "Y"], name="ghost")


def test_cap_weighting_with_no_caps_at_all_is_a_data_error() -> None:
    px = _equal_monthly_example()
    with pytest.raises(DataError):
        basket_index(px, weighting="cap", caps=px * np.nan)


# ------------------------------------------------------------------------ no look-ahead
@st.composite
def _prices_and_caps(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    n_days = draw(st.integers(8, 70))
    n_members = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dates = pd.DatetimeIndex(pd.date_range("2024-01-20", periods=n_days, freq=draw(st.sampled_from(["D", "B"]))))
    px = 10 * np.exp(np.cumsum(rng.normal(0, 0.05, (n_days, n_members)), axis=0))
    caps = px * rng.uniform(1, 10, n_members) * np.exp(np.cumsum(rng.normal(0, 0.02, (n_days, n_members)), 0))
    px[rng.random(px.shape) < draw(st.floats(0.0, 0.5))] = np.nan
    caps[rng.random(caps.shape) < draw(st.floats(0.0, 0.3))] = np.nan
    cut = draw(st.integers(1, n_days - 1))
    cols = [f"M{i}" for i in range(n_members)]
    return pd.DataFrame(px, index=dates, columns=cols), pd.DataFrame(caps, index=dates, columns=cols), cut


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_prices_and_caps(), rule=st.sampled_from(REBALANCE_RULES), weighting=st.sampled_from(["equal", "cap"]))
def test_appending_future_rows_never_changes_past_levels(
    data: tuple[pd.DataFrame, pd.DataFrame, int], rule: str, weighting: str
) -> None:
    px, caps, cut = data

    def build(p: pd.DataFrame, c: pd.DataFrame) -> pd.Series | None:
        try:
            return basket_index(p, weighting=weighting, caps=c if weighting == "cap" else None, rebalance=rule).level
        except DataError:
            return None

    past = build(px.iloc[:cut], caps.iloc[:cut])
    full = build(px, caps)
    if past is None:  # never started on the first rows: the full index must not have started there either
        assert full is None or full.iloc[:cut].isna().all()
        return
    assert full is not None
    pd.testing.assert_series_equal(full.iloc[:cut], past, rtol=1e-12)


def test_level_is_nan_not_flat_when_no_held_member_trades() -> None:
    """After every member's data stops the index has no level (it does not run flat)."""
    import numpy as np
    import pandas as pd

    from rotation.panel import basket_index

    idx = pd.bdate_range("2024-01-01", periods=6)
    prices = pd.DataFrame({"A": [10.0, 11.0, 12.0, np.nan, np.nan, 13.0], "B": [5.0, 5.0, 6.0, np.nan, np.nan, 6.0]},
                          index=idx)
    out = basket_index(prices, weighting="equal", rebalance="D")
    assert np.isnan(out.level.iloc[3]) and np.isnan(out.level.iloc[4])
    assert np.isnan(out.returns.iloc[3])
    # it resumes from the last level; A's move 12 -> 13 spans the pause (weights reset daily from t-1 = pause:
    # no eligible member there, so the drifted weights are kept)
    level2 = out.level.iloc[2]
    assert out.level.iloc[5] == pytest.approx(level2 * (1 + out.returns.iloc[5]))
    assert out.returns.iloc[5] != 0.0
