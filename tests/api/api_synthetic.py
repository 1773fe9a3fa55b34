"""The API tests' synthetic store and universe (a uniquely named module: ``conftest`` is ambiguous).

4 years of random walks with caps on every instrument (:func:`write_synthetic`); optional extras that
some endpoints need: FRED-like macro series (:func:`write_macro`, universe ``MACRO``) and two USD
stablecoins with supply plus an S&P-like index membership (:func:`write_stablecoins_membership`,
universe ``STABLECOINS``). :func:`write_full` writes all of it for :data:`FULL_UNIVERSE`, on which every
endpoint answers 200. The mechanics are :mod:`synthetic_store`'s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:  # benchmarks/bench_api.py puts only tests/api on the path
    sys.path.append(_TESTS)

from synthetic_store import basket_toml, by_source, instrument_toml, macro_toml, prices  # noqa: E402
from synthetic_store import series, spells, stablecoin, walk, write_store  # noqa: E402

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2"),
    instrument_toml("C1", "C2", asset_class="crypto", provider="coingecko"),
    instrument_toml("SPY", asset_class="etf"),
    basket_toml("ai", ["A1", "A2"], role="ai"),
    basket_toml("crypto", ["C1", "C2"], weighting="cap", role="crypto"),
    basket_toml("bench", ["SPY"], role="benchmark"),
])

#: The FRED series of the macro factors and net liquidity (append to :data:`UNIVERSE`; no units declared).
MACRO = "\n".join(macro_toml(s, units=None) for s in ("DGS2", "DFII10", "DTWEXBGS", "WALCL", "RRPONTSYD", "WDTGAL"))

#: Two USD stablecoins (USDT, USDC) in a stablecoins basket (append to :data:`UNIVERSE`).
STABLECOINS = "\n".join([
    instrument_toml("USDT", asset_class="stablecoin", provider="coingecko", provider_symbol="tether"),
    instrument_toml("USDC", asset_class="stablecoin", provider="coingecko", provider_symbol="usd-coin"),
    basket_toml("stablecoins", ["USDT", "USDC"], weighting="cap", role="other"),
])

FULL_UNIVERSE = UNIVERSE + MACRO + STABLECOINS


def write_synthetic(path: Path, *, seed: int = 7) -> None:
    """Random-walk prices, volumes and caps of :data:`UNIVERSE`, 2019-2022 (equities on business days)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2019-01-01", "2022-12-31", freq="D")
    sessions = pd.bdate_range(days[0], days[-1])
    frames = []
    for sym, idx, vol, shares in (("A1", sessions, 0.02, 1e9), ("A2", sessions, 0.025, 5e8),
                                  ("SPY", sessions, 0.01, 1e9), ("C1", days, 0.04, 19e6), ("C2", days, 0.05, 1e8)):
        px = walk(100, rng.normal(0.0003, vol, len(idx)))
        frames.append(prices(sym, idx, px, shares=shares, volume_usd=rng.lognormal(20, 0.3, len(idx))))
    write_store(path, by_source(frames, "yahoo", coingecko=["C1", "C2"]))


def write_macro(path: Path) -> None:
    """FRED-like random walks of the :data:`MACRO` series, 2019-2022 (daily business days or Wednesdays)."""
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2019-01-01", "2022-12-31")
    weds = pd.date_range("2019-01-02", "2022-12-31", freq="W-WED")
    rows = []
    for sym, idx, level, step in (("DGS2", days, 2.0, 0.03), ("DFII10", days, 0.5, 0.03),
                                  ("DTWEXBGS", days, 115.0, 0.3), ("RRPONTSYD", days, 300.0, 5.0),
                                  ("WALCL", weds, 6e6, 2e4), ("WDTGAL", weds, 5e5, 1e4)):
        rows.append(series(sym, idx, np.abs(walk(level, rng.normal(0, step, len(idx)), "add"))))
    write_store(path, macro=pd.concat(rows, ignore_index=True))


def write_stablecoins_membership(path: Path) -> None:
    """Supply (= market cap) of the :data:`STABLECOINS` and an ``SP500`` membership: A1 and SPY throughout,
    A2 joining mid-2020."""
    rng = np.random.default_rng(11)
    days = pd.date_range("2019-01-01", "2022-12-31", freq="D")
    frames = [stablecoin(sym, days, walk(base, rng.normal(0.002, 0.01, len(days))))
              for sym, base in (("USDT", 4e9), ("USDC", 5e8))]
    members = spells({"A1": ("2015-01-01", None), "A2": ("2020-06-01", None), "SPY": ("2015-01-01", None)})
    write_store(path, {"coingecko": pd.concat(frames, ignore_index=True)}, membership={"SP500": members})


def write_full(path: Path) -> None:
    """Everything: the synthetic store, the macro series, the stablecoins and the membership."""
    write_synthetic(path)
    write_macro(path)
    write_stablecoins_membership(path)
