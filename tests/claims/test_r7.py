"""R7 (winner-takes-most): the decision rule pinned on constructed market caps, and the real data.

Each constructed store holds AI-basket members with a constant share count
(cap = shares x price every session, 2021-2023) whose relative prices are
designed so that the Herfindahl index of the pool rises, falls or ends where
it started; the expected verdict follows from the rule in
``rotation.claims.r7_concentration``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from rotation.claims import VERDICTS, evaluate_claims, load_claims_config
from rotation.errors import ConfigError
from rotation.panel import sessions
from rotation.store import Store
from claims_synthetic import claim_inputs, evaluate_one
from synthetic_store import basket_toml, instrument_toml, prices, write_store

START, END = "2021-01-01", "2023-12-31"

CONFIG = """
[defaults]
ai = ["comp", "cloud"]
start = 2021-01-01
bootstrap_reps = 400
min_observations = 120

[claims.R7]
top3_threshold = 0.5
min_members = 4
"""


def _universe(symbols: list[str]) -> str:
    half = (len(symbols) + 1) // 2
    return "\n".join([instrument_toml(*symbols),
                      basket_toml("comp", symbols[:half], weighting="cap", role="ai"),
                      basket_toml("cloud", symbols[half:], weighting="cap", role="ai")])


def _paths(caps0: dict[str, float], drift: dict[str, float], *, seed: int = 7, demean: bool = False,
           late: dict[str, str] | None = None) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    """Daily caps (T, N): shares fixed at the start, log returns = drift + N(0, 0.4%) noise.

    ``demean``: every member's log returns are shifted to the same total, so
    relative caps (and the HHI) end exactly where they started.
    """
    rng = np.random.default_rng(seed)
    idx = sessions(START, END)
    syms = list(caps0)
    r = rng.normal(0.0, 0.004, (len(idx), len(syms))) + np.array([drift.get(s, 0.0) for s in syms])
    r[0] = 0.0
    if demean:
        r[1:] -= r[1:].mean(axis=0) - r[1:].mean()
    price = 50.0 * np.exp(np.cumsum(r, axis=0))
    caps = pd.DataFrame(price / 50.0 * np.array([caps0[s] for s in syms]), index=idx, columns=syms)
    for s, first in (late or {}).items():
        caps.loc[caps.index < first, s] = np.nan
    return idx, caps


def _build(root: Path, caps0: dict[str, float], drift: dict[str, float], *, config: str = CONFIG,
           **kw) -> tuple[Path, Path, Path, pd.DataFrame]:
    root.mkdir(parents=True, exist_ok=True)
    idx, caps = _paths(caps0, drift, **kw)
    rows = []
    for s in caps.columns:
        c = caps[s].dropna()
        px = c / caps0[s] * 50.0  # constant share count caps0/50
        rows.append(prices(s, c.index, px.to_numpy(), market_cap=c.to_numpy()))
    write_store(root / "s.duckdb", {"yahoo": pd.concat(rows, ignore_index=True)})
    return *claim_inputs(root, _universe(list(caps0)), config), caps


def _r7(paths, **kwargs):
    return evaluate_one(paths, "R7", **kwargs)


def _hhi(row: pd.Series) -> float:
    s = row.dropna()
    s = s / s.sum()
    return float((s * s).sum())


# a leader with 35% and four members of 13% each: top-3 61% from the start
LEADER = {"A1": 35.0, "A2": 13.0, "A3": 13.0, "A4": 13.0, "A5": 13.0}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("r7")
    return {
        "rises": _build(root / "rises", LEADER, {"A1": 0.002}),
        "falls": _build(root / "falls", LEADER, {"A1": -0.0012}),  # down to the pack (HHI is lowest at parity)
        "flat": _build(root / "flat", LEADER, {}, demean=True),
    }


@pytest.mark.parametrize(("kind", "expected"), [("rises", "supported"), ("falls", "contradicted"),
                                                ("flat", "inconclusive")])
def test_rule_gives_the_constructed_verdict(built, kind, expected):
    v = _r7(built[kind])
    assert v.verdict == expected, (v.verdict, v.missing, v.caveats)
    if kind == "flat":
        assert abs(v.effect.value) < 1e-12 and v.p_value > 0.2
    else:
        assert v.p_value < 0.01 and np.sign(v.effect.value) == (1 if kind == "rises" else -1)
    assert v.interval.lo <= v.effect.value <= v.interval.hi
    assert v.statistics["top3_above_threshold"] is True
    assert {"concentration", "member_shares"} <= set(v.evidence)
    conc = v.evidence["concentration"]
    assert {"date", "hhi", "top1", "top3", "hhi_comp", "hhi_cloud", "leader"} <= set(conc.columns)
    assert conc["date"].is_unique and conc["date"].iloc[0] == v.window[0] and conc["date"].iloc[-1] == v.window[1]
    assert_allclose(conc["hhi"].iloc[-1] - conc["hhi"].iloc[0], v.effect.value, rtol=1e-10)


def test_effect_is_the_hhi_change_of_the_fixed_set(built):
    """Hand computation: HHI = sum of squared shares of the stored caps, first and last session."""
    *_, caps = built["rises"]
    v = _r7(built["rises"])
    s, e = v.window
    assert s == caps.index[0] and e == caps.index[-1]
    ref = _hhi(caps.loc[e]) - _hhi(caps.loc[s])
    assert_allclose(v.effect.value, ref, rtol=1e-10)
    shares = caps.loc[e] / caps.loc[e].sum()
    assert_allclose(v.statistics["top3_end"], shares.sort_values().iloc[-3:].sum(), rtol=1e-12)
    assert_allclose(v.statistics["effective_number_end"], 1.0 / _hhi(caps.loc[e]), rtol=1e-12)
    assert v.statistics["leader_end"] == "A1"
    ev = v.evidence["member_shares"].set_index("symbol")
    assert_allclose(ev.loc["A1", "share_end"], shares["A1"], rtol=1e-12)
    # basket-level numbers use the same caps
    comp = ["A1", "A2", "A3"]
    assert_allclose(v.statistics["hhi_comp_end"], _hhi(caps.loc[e, comp]), rtol=1e-12)


def test_rising_but_dispersed_is_inconclusive(tmp_path):
    """Twelve equal members, one drifting up: concentration rises, yet the top three stay below 50%."""
    caps0 = {f"A{i}": 10.0 for i in range(1, 13)}
    v = _r7(_build(tmp_path, caps0, {"A1": 0.001}))
    assert v.verdict == "inconclusive"
    assert v.interval.lo > 0  # it did rise significantly
    assert v.statistics["top3_end"] < 0.5 and v.statistics["top3_above_threshold"] is False
    assert any("not (yet) winner-takes-most" in c for c in v.caveats)


def test_late_members_are_left_out_and_named(tmp_path):
    caps0 = {**LEADER, "A6": 40.0}  # a big member listed in 2022 would jump the HHI if it were counted
    *paths, caps = _build(tmp_path, caps0, {"A1": 0.002}, late={"A6": "2022-01-03"})
    v = _r7(paths)
    fixed = list(LEADER)
    s, e = v.window
    assert_allclose(v.effect.value, _hhi(caps.loc[e, fixed]) - _hhi(caps.loc[s, fixed]), rtol=1e-10)
    assert v.statistics["members_with_cap"] == 5 and v.statistics["members"] == 6
    assert any("A6" in c and "left out" in c for c in v.caveats)
    assert "A6" not in set(v.evidence["member_shares"]["symbol"])


def test_too_few_members_or_days_is_insufficient(tmp_path):
    few = _build(tmp_path / "few", {"A1": 30.0, "A2": 20.0, "A3": 10.0}, {"A1": 0.002})
    v = _r7(few)
    assert v.verdict == "insufficient data" and v.effect is None
    assert "3 members" in v.missing[0] and "at least 4 needed" in v.missing[0]
    short = _r7(_build(tmp_path / "short", LEADER, {"A1": 0.002}), as_of="2021-03-31")
    assert short.verdict == "insufficient data" and "daily HHI increments" in short.missing[0]
    before = _r7(few, as_of="2020-06-30")
    assert before.verdict == "insufficient data" and "2020-06-30" in before.missing[0]


def test_without_market_caps_it_says_so(tmp_path):
    *paths, _ = _build(tmp_path, LEADER, {"A1": 0.002})
    obs = Store(paths[0], read_only=True)
    frame = obs.read_observations(list(LEADER)).drop(columns=["source", "market_cap"])
    obs.close()
    with Store(tmp_path / "nocap.duckdb") as store:
        store.write_observations(frame, source="yahoo")
    v = _r7((tmp_path / "nocap.duckdb", *paths[1:]))
    assert v.verdict == "insufficient data"
    assert "0 members" in v.missing[0] and "without a cap: A1, A2" in v.missing[0]


def test_deterministic_and_as_of_ignores_later_rows(built, tmp_path):
    v1, v2 = _r7(built["rises"]), _r7(built["rises"])
    assert json.dumps(v1.to_dict(), default=str) == json.dumps(v2.to_dict(), default=str)
    as_of = "2022-12-30"
    store, uni, cfg, _ = built["rises"]
    with Store(store, read_only=True) as db:
        cut_rows = db.read_observations(list(LEADER), end=as_of).drop(columns="source")
    with Store(tmp_path / "cut.duckdb") as cut:
        cut.write_observations(cut_rows, source="yahoo")
    then = _r7((tmp_path / "cut.duckdb", uni, cfg), as_of=as_of)
    later = _r7(built["rises"], as_of=as_of)
    assert json.dumps(then.to_dict(), default=str) == json.dumps(later.to_dict(), default=str)
    assert later.window[1] <= pd.Timestamp(as_of)


def test_configuration_is_checked(built, tmp_path):
    store, uni, _, _ = built["rises"]
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.replace("top3_threshold = 0.5", "top3_threshold = 1.5"))
    with pytest.raises(ConfigError, match="must be <= 1") as info:
        load_claims_config(bad)
    assert info.value.key == "claims.R7.top3_threshold"
    strict = tmp_path / "strict.toml"
    strict.write_text(CONFIG.replace("top3_threshold = 0.5", "top3_threshold = 0.99"))
    v = _r7((store, uni, strict))
    assert v.verdict == "inconclusive" and v.interval.lo > 0  # rose, but three members do not hold 99%


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_data_gives_a_verdict_with_evidence(real_store, real_universe):
    v = evaluate_claims(real_store, real_universe, claims=["R7"])["R7"]
    assert v.verdict in VERDICTS and v.verdict != "insufficient data", v.missing
    assert v.window[0] == pd.Timestamp("2022-12-30")
    # TSM, ASML and ARM are not S&P members: no cap snapshot, named in a caveat
    assert any("no market cap" in c and "TSM" in c for c in v.caveats)
    assert any("back-cast" in c for c in v.caveats)
    st = v.statistics
    assert 0.0 < st["hhi_end"] <= 1.0 and 1.0 <= st["effective_number_end"] <= st["members_with_cap"]
    assert st["leader_end"] in {"NVDA", "MSFT", "GOOGL", "AAPL", "AMZN"}
    assert st["top3_end"] >= st["top1_end"]
    assert len(v.evidence["concentration"]) > 100
    # a guard against pathological slowness only (machine load varies); typically
    # 1.5 s (panel) + 0.1 s on the shared data
