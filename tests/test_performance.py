"""Basket performance: trailing returns (closed form), rebasing, the common comparison window."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from rotation.analytics.performance import basket_performance, common_window, rebase, trailing_returns
from rotation.errors import ParameterError
from rotation.panel import build_panel
from rotation.store import Store
from rotation.universe import load_universe

UNIVERSE = """
[instruments.AI1]
asset_class = "equity"
sources = { yahoo = "AI1" }
[instruments.AI2]
asset_class = "equity"
sources = { yahoo = "AI2" }
[instruments.C1]
asset_class = "crypto"
sources = { coingecko = "c1" }
[instruments.C2]
asset_class = "crypto"
sources = { coingecko = "c2" }
[instruments.USDX]
asset_class = "stablecoin"
sources = { defillama = "1" }
[baskets.ai]
members = ["AI1", "AI2"]
role = "ai"
[baskets.crypto]
members = ["C1", "C2"]
role = "crypto"
[baskets.stable]
members = ["USDX"]
"""


def test_trailing_returns_closed_form() -> None:
    idx = pd.date_range("2023-01-06", periods=60, freq="W-FRI")
    growth = 1.01  # 1% a week: an exact geometric path
    levels = pd.DataFrame({"a": 100 * growth ** np.arange(60), "b": np.nan}, index=idx)
    levels.loc[idx[-10]:, "b"] = 50.0  # short history: only the 4-week window exists
    out = trailing_returns(levels)
    assert_allclose(out.loc["a", ["4w", "13w", "52w"]].to_numpy(float),
                    [growth**4 - 1, growth**13 - 1, growth**52 - 1], rtol=1e-12)
    # year to date: from the last level of 2023 (2023-12-29, index 51) to the end (index 59)
    assert_allclose(out.loc["a", "ytd"], growth**8 - 1, rtol=1e-12)
    assert out.loc["b", "4w"] == 0.0 and np.isnan(out.loc["b", "13w"])
    with pytest.raises(ParameterError):
        trailing_returns(levels, weeks=(0,))


def test_rebase() -> None:
    idx = pd.date_range("2024-01-01", periods=4)
    lv = pd.DataFrame({"a": [1.0, 2.0, 4.0, 8.0], "b": [np.nan, np.nan, 5.0, 10.0]}, index=idx)
    out = rebase(lv, idx[1])
    assert out["a"].tolist() == [100.0, 200.0, 400.0]
    assert out["b"].tolist()[1:] == [100.0, 200.0] and np.isnan(out["b"].iloc[0])


@pytest.fixture
def panel(tmp_path: Path):
    """AI equities observed to 2024-06-28; crypto C1 to 2024-07-31, C2 to 2024-05-31."""
    p = tmp_path / "u.toml"
    p.write_text(textwrap.dedent(UNIVERSE))
    universe = load_universe(p)
    store = Store(":memory:")
    rng = np.random.default_rng(7)
    sess = pd.bdate_range("2023-01-02", "2024-06-28")
    days = pd.date_range("2023-01-01", "2024-07-31")
    for sym, dates, end in [("AI1", sess, None), ("AI2", sess, None), ("C1", days, None), ("C2", days, "2024-05-31")]:
        d = dates if end is None else dates[dates <= end]
        px = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(d))))
        store.write_observations(pd.DataFrame({"symbol": sym, "date": d, "close": px}), source="x")
    store.write_observations(pd.DataFrame({"symbol": "USDX", "date": days, "close": 1.0, "supply": 1e9}), source="x")
    return build_panel(store, universe)


def test_common_window_stops_at_the_earliest_coverage_end(panel) -> None:
    assert panel.last_observed["AI1"] == pd.Timestamp("2024-06-28")
    # C1 is observed on the session after its last UTC close (prior-close sampling)
    assert panel.last_observed["C1"] == pd.Timestamp("2024-07-31")
    perf = basket_performance(panel)
    assert "stable" not in perf.indices  # pegged prices are not a performance story
    win = perf.window
    # crypto: half of {C1 (07-31), C2 (05-31)} -> 2024-07-31; ai -> 06-28
    assert win.ends["crypto"] == pd.Timestamp("2024-07-31") and win.ends["ai"] == pd.Timestamp("2024-06-28")
    assert win.end == pd.Timestamp("2024-06-28") and win.stale == []
    assert perf.levels.index.max() == win.end
    assert_allclose(perf.levels.iloc[0].to_numpy(float), 100.0)
    ai = perf.indices["ai"].level
    assert_allclose(perf.trailing.loc["ai", "4w"], ai[win.end] / ai[: win.end - pd.Timedelta(weeks=4)].iloc[-1] - 1)
    table = perf.to_frame()
    assert set(table["window_end"].astype(str)) == {"2024-06-28"}
    assert {"sharpe", "volatility", "max_drawdown", "4w"} <= set(table.columns)


def test_stale_basket_is_left_out_of_the_common_window(panel) -> None:
    win = common_window(panel, {n: panel.basket(n) for n in ("ai", "crypto")}, min_coverage=1.0, stale_days=20)
    # requiring every member: crypto's coverage ends with C2 (2024-05-31, 28 days before ai's end) -> stale
    assert win.ends["crypto"] == pd.Timestamp("2024-05-31")
    assert win.stale == ["crypto"] and win.end == pd.Timestamp("2024-06-28")
    with pytest.raises(ParameterError):
        common_window(panel, {}, min_coverage=0)
