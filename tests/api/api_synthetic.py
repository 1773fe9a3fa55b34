"""The API tests' synthetic store and universe (a uniquely named module: ``conftest`` is ambiguous).

4 years of random walks with caps on every instrument (:func:`write_synthetic`); optional extras that
some endpoints need: FRED-like macro series (:func:`write_macro`, universe ``MACRO``) and two USD
stablecoins with supply plus an S&P-like index membership (:func:`write_stablecoins_membership`,
universe ``STABLECOINS``). :func:`write_full` writes all of it for :data:`FULL_UNIVERSE`, on which every
endpoint answers 200.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rotation.store import Store

UNIVERSE = """
[instruments.A1]
asset_class = "equity"
sources = { yahoo = "A1" }

[instruments.A2]
asset_class = "equity"
sources = { yahoo = "A2" }

[instruments.C1]
asset_class = "crypto"
sources = { coingecko = "c1" }

[instruments.C2]
asset_class = "crypto"
sources = { coingecko = "c2" }

[instruments.SPY]
asset_class = "etf"
sources = { yahoo = "SPY" }

[baskets.ai]
members = ["A1", "A2"]
weighting = "equal"
role = "ai"

[baskets.crypto]
members = ["C1", "C2"]
weighting = "cap"
role = "crypto"

[baskets.bench]
members = ["SPY"]
weighting = "equal"
role = "benchmark"
"""

#: The FRED series of the macro factors and net liquidity (append to :data:`UNIVERSE`).
MACRO = """
[macro.DGS2]
frequency = "D"
release_lag_days = 1
sources = { fred = "DGS2" }

[macro.DFII10]
frequency = "D"
release_lag_days = 1
sources = { fred = "DFII10" }

[macro.DTWEXBGS]
frequency = "D"
release_lag_days = 7
sources = { fred = "DTWEXBGS" }

[macro.WALCL]
frequency = "W"
scale = 1e6
release_lag_days = 2
sources = { fred = "WALCL" }

[macro.RRPONTSYD]
frequency = "D"
scale = 1e9
release_lag_days = 1
sources = { fred = "RRPONTSYD" }

[macro.WDTGAL]
frequency = "W"
scale = 1e6
release_lag_days = 2
sources = { fred = "WDTGAL" }
"""

#: Two USD stablecoins (USDT, USDC) in a stablecoins basket (append to :data:`UNIVERSE`).
STABLECOINS = """
[instruments.USDT]
asset_class = "stablecoin"
sources = { coingecko = "tether" }

[instruments.USDC]
asset_class = "stablecoin"
sources = { coingecko = "usd-coin" }

[baskets.stablecoins]
members = ["USDT", "USDC"]
weighting = "cap"
role = "other"
"""

FULL_UNIVERSE = UNIVERSE + MACRO + STABLECOINS


def write_synthetic(path: Path, *, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2019-01-01", "2022-12-31", freq="D")
    sessions = pd.bdate_range(days[0], days[-1])
    frames = []
    for sym, idx, vol, shares in (("A1", sessions, 0.02, 1e9), ("A2", sessions, 0.025, 5e8),
                                  ("SPY", sessions, 0.01, 1e9), ("C1", days, 0.04, 19e6), ("C2", days, 0.05, 1e8)):
        px = 100 * np.exp(np.cumsum(rng.normal(0.0003, vol, len(idx))))
        frames.append(pd.DataFrame({"symbol": sym, "date": idx, "close": px, "adj_close": px,
                                    "volume_usd": rng.lognormal(20, 0.3, len(idx)), "market_cap": px * shares}))
    obs = pd.concat(frames, ignore_index=True)
    with Store(path) as store:
        for source, syms in (("yahoo", ["A1", "A2", "SPY"]), ("coingecko", ["C1", "C2"])):
            store.write_observations(obs[obs["symbol"].isin(syms)], source=source)


def write_macro(path: Path) -> None:
    """FRED-like random walks of the :data:`MACRO` series, 2019-2022 (daily business days or Wednesdays)."""
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2019-01-01", "2022-12-31")
    weds = pd.date_range("2019-01-02", "2022-12-31", freq="W-WED")
    rows = []
    for sym, idx, level, step in (("DGS2", days, 2.0, 0.03), ("DFII10", days, 0.5, 0.03),
                                  ("DTWEXBGS", days, 115.0, 0.3), ("RRPONTSYD", days, 300.0, 5.0),
                                  ("WALCL", weds, 6e6, 2e4), ("WDTGAL", weds, 5e5, 1e4)):
        v = level + np.cumsum(rng.normal(0, step, len(idx)))
        rows.append(pd.DataFrame({"symbol": sym, "date": idx, "value": np.abs(v)}))
    with Store(path) as s:
        s.write_macro(pd.concat(rows, ignore_index=True), source="fred")


def write_stablecoins_membership(path: Path) -> None:
    """Supply (= market cap) of the :data:`STABLECOINS` and an ``SP500`` membership: A1 and SPY throughout,
    A2 joining mid-2020."""
    rng = np.random.default_rng(11)
    days = pd.date_range("2019-01-01", "2022-12-31", freq="D")
    frames = []
    for sym, base in (("USDT", 4e9), ("USDC", 5e8)):
        supply = base * np.exp(np.cumsum(rng.normal(0.002, 0.01, len(days))))
        frames.append(pd.DataFrame({"symbol": sym, "date": days, "close": 1.0, "adj_close": 1.0,
                                    "market_cap": supply, "supply": supply}))
    spells = pd.DataFrame({"symbol": ["A1", "A2", "SPY"],
                           "start_date": ["2015-01-01", "2020-06-01", "2015-01-01"],
                           "end_date": [None, None, None]})
    with Store(path) as s:
        s.write_observations(pd.concat(frames, ignore_index=True), source="coingecko")
        s.write_membership(spells, index_name="SP500", source="test")


def write_full(path: Path) -> None:
    """Everything: the synthetic store, the macro series, the stablecoins and the membership."""
    write_synthetic(path)
    write_macro(path)
    write_stablecoins_membership(path)
