"""The API tests' synthetic store and universe (a uniquely named module: ``conftest`` is ambiguous).

4 years of random walks with caps on every instrument.
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
