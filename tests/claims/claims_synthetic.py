"""Constructed stores where the right verdict of R1, R2, R3, R6 and R9 is known.

Three scenarios on NYSE sessions 2021-01-04 .. 2023-12-29 (about 750 rows):

``ai_wins`` (s = +1)
    The AI side drifts up (+0.3%/day) and the crypto side down (-0.3%/day);
    market-adjusted, crypto's common shock is the *negative* of AI's (a
    siphon, residual correlation about -0.9); crypto loses 0.3% per 1 pp
    daily rise in the 2-year yield while AI does not react; the RWA/DePIN
    basket drifts +0.3%/day above its BTC/ETH-like benchmark.
    Every constructed claim (:data:`CONSTRUCTED`) must come out **supported**.
``ai_loses`` (s = -1)
    The mirror image: AI drifts down and crypto up, residuals move
    *together* (a common tide), crypto *gains* when yields rise, RWA/DePIN
    lags. Every constructed claim must come out **contradicted**.
``noise`` (s = 0)
    No drift difference (the crypto members' returns are shifted to have
    the AI members' mean, so the relative return is ~0 by construction),
    independent residual shocks, no rate effect. Every constructed claim
    must come out **inconclusive** (the seed was checked not to be one of
    the 5% false positives; the verdict tests also pin the p-values well
    above 0.05).

The other claims (R4, R5, R7, R8, R10, R11, R12) are evaluated on the same
panels too; they need data these panels deliberately lack (easing events and
net liquidity, index membership, enough AI members with caps, miners and
crypto-equity baskets, weeks after the 2024 spot-ETF date), so they give
"insufficient data" naming it - except R10, whose rule has what it needs and
gives its own verdict (see ``test_claims_rules.py``). Their constructed tests
live in ``test_r4.py`` ... ``test_r12.py``.

Crypto-side members are declared ``equity`` here so that every series is
observed on the same sessions: the claims' logic, not the panel's 24/7
sampling (tested elsewhere), is under test. Stablecoins are real
``stablecoin`` instruments with daily supply.

:func:`register_pending` re-registers claims as "not yet implemented" for one
test, so the pending-claim machinery stays tested now that R1-R12 all have code.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthetic_store as ss
from rotation.panel import sessions
from synthetic_store import basket_toml, instrument_toml, macro_toml, prices, series, stablecoin, walk

SCENARIOS = {"ai_wins": 1.0, "ai_loses": -1.0, "noise": 0.0}
#: Claims whose right verdict the scenarios are built to give (:data:`EXPECTED`).
CONSTRUCTED = ("R1", "R2", "R3", "R6", "R9")
EXPECTED = {"ai_wins": "supported", "ai_loses": "contradicted", "noise": "inconclusive"}

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2", "C1", "C2", "W1", "W2", "W3", "W4", "B1", "B2"),
    instrument_toml("SPY", "UUP", asset_class="etf"),
    instrument_toml("S1", "S2", asset_class="stablecoin", provider="coingecko"),
    basket_toml("ai", ["A1", "A2"], role="ai"),
    basket_toml("crypto", ["C1", "C2"], role="crypto"),
    basket_toml("rwa", ["W1", "W2", "W3", "W4"], role="crypto"),
    basket_toml("stables", ["S1", "S2"], weighting="cap", role="other"),
    macro_toml("DGS2"), macro_toml("DFII10"), macro_toml("FEDFUNDS"),
])

CONFIG = """
[defaults]
ai = ["ai"]
crypto = ["crypto"]
market = "SPY"
start = 2021-01-01
bootstrap_reps = 400
min_observations = 120
min_weeks = 52

[claims.R3]
rates = ["DGS2", "DFII10"]
primary = "DGS2"
usd = "UUP"
rolling_weeks = 52

[claims.R6]
risk_free = ["DFF", "FEDFUNDS"]
vol_start = 2021-01-01

[claims.R9]
basket = "rwa"
benchmark = ["B1", "B2"]
min_members = 3
stablecoins = ["S1", "S2"]
"""


def frames(kind: str, *, seed: int = 4, start: str = "2021-01-01", end: str = "2023-12-31",
           drop: tuple[str, ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(observations, macro) long frames of one scenario (see the module docstring)."""
    s = SCENARIOS[kind]
    rng = np.random.default_rng(seed)
    idx = sessions(start, end)
    n = len(idx)
    m = rng.normal(0.0003, 0.01, n)                  # market log return
    u, v = rng.normal(0.0, 1.0, n), rng.normal(0.0, 1.0, n)
    d2 = rng.normal(0.0, 0.05, n)                    # daily change of the 2y yield, pp
    dr = rng.normal(0.0, 0.04, n)                    # daily change of the 10y real yield, pp
    usd = rng.normal(0.0, 0.004, n)
    f_ai = 0.012 * u
    # siphon (s=+1): crypto's shock is minus AI's; tide (s=-1): the same sign; noise: independent
    f_cr = 0.02 * (-s * 0.9 * u + np.sqrt(1.0 - 0.81 * s * s) * v)
    ai_side = 0.003 * s + 1.0 * m + f_ai
    cr_side = -0.003 * s + 1.2 * m + f_cr - s * 0.3 * d2
    obs: dict[str, np.ndarray] = {"SPY": m, "UUP": usd}
    for k in (1, 2):
        obs[f"A{k}"] = ai_side + rng.normal(0.0, 0.008, n)
        obs[f"C{k}"] = cr_side + rng.normal(0.0, 0.012, n)
    if s == 0.0:  # relative return ~0 by construction (see module docstring)
        shift = (obs["A1"].mean() + obs["A2"].mean() - obs["C1"].mean() - obs["C2"].mean()) / 2.0
        obs["C1"], obs["C2"] = obs["C1"] + shift, obs["C2"] + shift
    bench = 0.001 + 1.1 * m + 0.025 * rng.normal(0.0, 1.0, n)
    for k in (1, 2):
        obs[f"B{k}"] = bench + rng.normal(0.0, 0.01, n)
    for k in (1, 2, 3, 4):
        obs[f"W{k}"] = bench + 0.003 * s + rng.normal(0.0, 0.02, n)
    if s == 0.0:
        target = (obs["B1"].mean() + obs["B2"].mean()) / 2.0
        for k in (1, 2, 3, 4):
            obs[f"W{k}"] = obs[f"W{k}"] - obs[f"W{k}"].mean() + target
    rows = [prices(sym, idx, walk(50.0, r), shares=1e9 if sym[0] in "AC" else None)  # constant share count
            for sym, r in obs.items() if sym not in drop]
    days = pd.date_range(start, end, freq="D")
    for k, (base, g) in enumerate(((8e10, 0.0008), (4e10, 0.0004)), start=1):
        rows.append(stablecoin(f"S{k}", days, walk(base, rng.normal(g, 0.001, len(days)))))
    months = pd.date_range("2020-10-01", end, freq="MS")
    macro = [series("DGS2", idx, walk(1.0, d2, "add")), series("DFII10", idx, walk(0.5, dr, "add")),
             series("FEDFUNDS", months, np.linspace(0.1, 5.3, len(months)))]
    return pd.concat(rows, ignore_index=True), pd.concat(macro, ignore_index=True)


def write_store(path: Path, obs: pd.DataFrame, macro: pd.DataFrame) -> Path:
    """``obs`` and ``macro`` in a store: symbols starting with "S" under coingecko (SPY too: the verdict tests
    were pinned on that split), the rest under yahoo, macro under fred."""
    coingecko = obs.loc[obs["symbol"].str.startswith("S"), "symbol"].unique()
    return ss.write_store(path, ss.by_source(obs, "yahoo", coingecko=coingecko), macro=macro)


def build(root: Path, kind: str, **kwargs) -> tuple[Path, Path, Path]:
    """(store, universe file, claims config file) of a scenario under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    uni = root / "universe.toml"
    uni.write_text(UNIVERSE)
    cfg = root / "claims.toml"
    cfg.write_text(CONFIG)
    obs, macro = frames(kind, **kwargs)
    store = write_store(root / f"{kind}.duckdb", obs, macro)
    return store, uni, cfg


def claim_inputs(root: Path, universe: str, config: str, *, events: str | None = None) -> tuple[Path, Path, Path]:
    """Write the universe, claims config and (optional) events files of the constructed store ``root/s.duckdb``.

    Returns ``(store, universe file, claims config file)``, what :func:`evaluate_one` takes.
    """
    if events is not None:
        (root / "events.toml").write_text(events)
    (root / "u.toml").write_text(universe)
    (root / "c.toml").write_text(config)
    return root / "s.duckdb", root / "u.toml", root / "c.toml"


def evaluate_one(paths: tuple[Path, ...], claim_id: str, **kwargs):
    """The verdict of one claim from ``(store, universe, claims config)`` files (extra paths ignored)."""
    from rotation.claims import evaluate_claims, load_claims_config
    from rotation.store import Store
    from rotation.universe import load_universe

    store, uni, cfg = paths[:3]
    with Store(store, read_only=True) as db:
        return evaluate_claims(db, load_universe(uni), load_claims_config(cfg), claims=[claim_id], **kwargs)[claim_id]


def register_pending(monkeypatch: pytest.MonkeyPatch, *claim_ids: str) -> tuple:
    """Register ``claim_ids`` as "not yet implemented" (module None) for the rest of one test.

    Every claim now has code, so the pending path (registry entry without a
    module -> :class:`~rotation.claims.PendingClaim`, config tables kept as
    given, the CLI's "not yet implemented" line) is reached only through such an
    entry. The registry is replaced where it is read (``_registry``, ``_run``
    and the package namespace); ``claim_module`` is swapped for its *uncached*
    original, so the real lookup runs against the patched registry and the
    cache of the real registry is never touched (no leak into later tests).

    Returns
    -------
    tuple of ClaimEntry
        The patched registry.
    """
    import rotation.claims as claims_pkg
    from rotation.claims import _registry, _run

    unknown = set(claim_ids) - set(_registry.CLAIM_IDS)
    assert not unknown, f"not registered claims: {sorted(unknown)}"
    registry = tuple(dataclasses.replace(e, module=None) if e.claim_id in claim_ids else e
                     for e in _registry.REGISTRY)
    lookup = _registry.claim_module.__wrapped__  # functools.cache keeps the undecorated function here
    monkeypatch.setattr(_registry, "REGISTRY", registry)
    monkeypatch.setattr(_registry, "claim_module", lookup)
    monkeypatch.setattr(_run, "REGISTRY", registry)
    monkeypatch.setattr(_run, "claim_module", lookup)
    monkeypatch.setattr(claims_pkg, "REGISTRY", registry)
    return registry
