"""Each decision rule pinned on constructed data where the right verdict is known.

See ``claims_synthetic.py`` for the three panels (AI clearly wins, clearly
loses, noise), built for R1, R2, R3, R6 and R9. Effect sizes are also checked
against independent computations (basket levels, statsmodels, empyrical).
The other claims are pinned to the verdict their rule gives on these panels
(mostly "insufficient data", naming what the panels lack).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import claims_synthetic as cs
from rotation.claims import Verdict, evaluate_claims, load_claims_config
from rotation.errors import ConfigError, ParameterError
from rotation.panel import build_panel, macro_panel
from rotation.store import Store
from rotation.universe import load_universe

CONSTRUCTED = cs.CONSTRUCTED

#: What the panels lack for the other claims: phrases their ``missing`` must contain (same in every scenario).
MISSING = {
    # no Fed cut or QT end in 2021-2023 (the shipped events are 2024-25), and no WALCL/TGA/RRP stored
    "R4": ("no fomc_cut, qt_taper, qt_end events in the events file", "between 2021-01-04 and 2023-12-29",
           "at least 3 needed", "net liquidity (WALCL - TGA - RRPONTSYD) cannot be computed",
           "macro series not stored: WALCL, WDTGAL, WTREGEN, RRPONTSYD"),
    "R5": ("the membership of index SP500 is needed: none stored",),  # no index members in the store
    "R7": ("2 members of ai with a market cap on 2021-01-04, at least 4 needed",),
    "R8": ("a basket of crypto miners is needed", "the universe has no basket 'miners_ai_hosting'"),
    # the data ends before the first institutional date (spot-ETF approval, 2024-01-11)
    "R11": ("103 weeks before and 0 weeks from 2024-01-11", "at least 26 on each side needed"),
    "R12": ("crypto-linked equities are needed", "the universe has no basket crypto_equities, miners_ai_hosting"),
}
#: Claims whose insufficient verdict still has a window (the data they looked at); the others stop before one.
MISSING_WITH_WINDOW = {"R4", "R7", "R11"}


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> dict[str, tuple[Path, Path, Path]]:
    root = tmp_path_factory.mktemp("claims-scenarios")
    return {kind: cs.build(root / kind, kind) for kind in cs.SCENARIOS}


def _ledger(paths, **kwargs):
    store, uni, cfg = paths
    with Store(store, read_only=True) as db:
        return evaluate_claims(db, load_universe(uni), load_claims_config(cfg), **kwargs)


@pytest.fixture(scope="module")
def ledgers(scenarios):
    return {kind: _ledger(paths) for kind, paths in scenarios.items()}


@pytest.mark.parametrize("kind", list(cs.SCENARIOS))
def test_every_rule_gives_the_constructed_answer(ledgers, kind):
    ledger = ledgers[kind]
    assert ledger.ids == list(f"R{i}" for i in range(1, 13))
    assert ledger.pending == ()  # every claim has code: all twelve give a verdict
    got = {v.claim_id: v.verdict for v in ledger.verdicts}
    want = {**dict.fromkeys(CONSTRUCTED, cs.EXPECTED[kind]), **dict.fromkeys(MISSING, "insufficient data"),
            "R10": "inconclusive"}
    assert got == want, {v.claim_id: (v.verdict, v.missing) for v in ledger.verdicts}
    for cid in CONSTRUCTED:
        v = ledger[cid]
        if kind == "noise":
            assert v.p_value > 0.2  # far from the 5% line: not a borderline pass
        else:
            assert v.p_value < 0.01
        sign = np.sign(v.effect.value)
        # R2 and R3 support the claim with a negative effect
        want_sign = {"ai_wins": 1, "ai_loses": -1}.get(kind)
        if want_sign is not None:
            assert sign == (want_sign if v.claim_id not in {"R2", "R3"} else -want_sign), v.claim_id
        assert v.evidence and all(len(f) for f in v.evidence.values()), v.claim_id
        assert v.window[0] < v.window[1] and len(v.data) and v.instruments
    for cid, phrases in MISSING.items():
        v = ledger[cid]
        text = " | ".join(v.missing)
        assert all(p in text for p in phrases), (cid, v.missing)
        assert v.effect is None and v.interval is None and v.p_value is None, cid
        assert (v.window is not None) == (cid in MISSING_WITH_WINDOW), (cid, v.window)
        if v.window is not None:
            assert v.window[0] < v.window[1] <= pd.Timestamp("2023-12-29"), cid


@pytest.mark.parametrize(
    ("kind", "live_risk", "spill_over"),
    [("ai_wins", True, False), ("ai_loses", False, True), ("noise", True, False)],
)
def test_r10_is_inconclusive_for_the_reason_its_rule_gives(ledgers, kind, live_risk, spill_over):
    """R10 needs both a live correction risk and a spill-over; each panel has at most one of the two."""
    v = ledgers[kind]["R10"]
    st = v.statistics
    assert v.verdict == "inconclusive"
    assert (st["live_risk"], st["spill_over_crypto"]) == (live_risk, spill_over)
    assert st["weeks"] == 155 and v.window == (pd.Timestamp("2021-01-04"), pd.Timestamp("2023-12-29"))
    # not contradicted either: the rate's Poisson interval holds 1 a year, and the crypto downside beta's
    # interval reaches above the 0.25 no-spill-over margin
    assert st["corrections_per_year_ci_low"] < 1.0 < st["corrections_per_year_ci_high"]
    assert v.interval.hi > 0.25 and v.effect.value == st["crypto_downside_beta"]
    assert (v.interval.lo > 0) == spill_over
    if kind == "ai_loses":  # one open fall (AI drifts down): rare, but the interval cannot say "rare"
        assert st["corrections"] == 1 and st["correction_open"] == 1 and v.p_value < 0.01
        assert any("does not exclude it" in c for c in v.caveats)
    assert any("no miners basket: the spill-over is tested on the crypto side alone" in c for c in v.caveats)
    assert {"drawdown_path", "episodes", "scenario"} <= set(v.evidence)


def test_a_claim_registered_without_code_is_listed_not_judged(scenarios, ledgers, monkeypatch):
    """The "not yet implemented" path, through entries this test registers without a module."""
    from rotation.claims import NOT_IMPLEMENTED, PendingClaim

    cs.register_pending(monkeypatch, "R4", "R11")
    ledger = _ledger(scenarios["ai_wins"])
    assert ledger.ids == list(f"R{i}" for i in range(1, 13))  # listed in registry order, never dropped
    assert [p.claim_id for p in ledger.pending] == ["R4", "R11"]
    assert all(isinstance(p, PendingClaim) and p.status == NOT_IMPLEMENTED for p in ledger.pending)
    assert ledger["R4"].title == ledgers["ai_wins"]["R4"].title
    doc = json.loads(ledger.to_json())
    assert {c["id"]: (c["status"], c["verdict"]) for c in doc["claims"] if c["id"] in {"R4", "R11"}} == {
        "R4": (NOT_IMPLEMENTED, None), "R11": (NOT_IMPLEMENTED, None)}
    # the claims with code are unaffected
    full = json.loads(ledgers["ai_wins"].to_json())["claims"]
    assert [c for c in doc["claims"] if c["id"] not in {"R4", "R11"}] == [
        c for c in full if c["id"] not in {"R4", "R11"}]
    only = _ledger(scenarios["ai_wins"], claims=["r11"])
    assert only.ids == ["R11"] and only.verdicts == () and only.pending[0].claim_id == "R11"


def test_relative_return_effects_equal_the_basket_levels(scenarios, ledgers):
    store, uni, _ = scenarios["ai_wins"]
    with Store(store, read_only=True) as db:
        panel = build_panel(db, load_universe(uni), cap_method="backcast")
    r1 = ledgers["ai_wins"]["R1"]
    s, e = r1.window
    ai, cr = panel.basket("ai", "equal").level, panel.basket("crypto", "equal").level
    ref = np.log(ai[e] / ai[s]) - np.log(cr[e] / cr[s])
    assert_allclose(r1.effect.value, ref, rtol=1e-10)
    assert_allclose(r1.evidence["relative_return"]["relative_log"].iloc[-1], ref, rtol=1e-10)
    assert r1.interval.lo < ref < r1.interval.hi
    r9 = ledgers["ai_wins"]["R9"]
    s, e = r9.window
    rwa = panel.basket("rwa", "equal").level
    from rotation.panel import basket_index

    bench = basket_index(panel.prices, ["B1", "B2"], weighting="equal").level
    assert_allclose(r9.effect.value, np.log(rwa[e] / rwa[s]) - np.log(bench[e] / bench[s]), rtol=1e-10)
    assert r9.statistics["stablecoin_supply_growth"] > 0
    # R1's supporting evidence exists on this data (caps on every member)
    assert r1.statistics["rrg_quadrant"] in {"leading", "weakening", "lagging", "improving"}
    assert r1.statistics["rotation_index_basis"] == "market cap"
    assert r1.statistics["ai_cap_share_change_pp"] > 0  # AI outgrows crypto in cap too


def test_residual_correlation_matches_statsmodels(scenarios, ledgers):
    import statsmodels.api as sm

    store, uni, _ = scenarios["ai_loses"]
    with Store(store, read_only=True) as db:
        panel = build_panel(db, load_universe(uni))
    v = ledgers["ai_loses"]["R2"]
    s, e = v.window
    levels = pd.DataFrame({"ai": panel.basket("ai", "equal").level, "crypto": panel.basket("crypto", "equal").level,
                           "m": panel.prices["SPY"]}).loc[:e]
    weekly = levels.resample("W-FRI").last()
    weekly = weekly[weekly.index <= e]
    r = (weekly / weekly.shift(1) - 1.0)
    r = r[r.index > s].dropna()
    X = sm.add_constant(r["m"])
    ra = sm.OLS(r["ai"], X).fit().resid
    rc = sm.OLS(r["crypto"], X).fit().resid
    assert_allclose(v.effect.value, np.corrcoef(ra, rc)[0, 1], rtol=1e-9)
    assert v.statistics["weeks"] == len(r)


def test_rate_difference_is_the_difference_of_betas(ledgers):
    for kind in ("ai_wins", "ai_loses"):
        v = ledgers[kind]["R3"]
        st = v.statistics
        assert_allclose(v.effect.value, st["beta_crypto_d_DGS2"] - st["beta_ai_d_DGS2"], rtol=1e-9)
        # the construction puts the rate effect on crypto only
        assert abs(st["beta_ai_d_DGS2"]) < abs(st["beta_crypto_d_DGS2"])
        assert {"sensitivities", "rolling_beta", "returns_by_regime"} <= set(v.evidence)


def test_sharpe_difference_matches_empyrical(scenarios, ledgers):
    import empyrical

    store, uni, _ = scenarios["ai_wins"]
    u = load_universe(uni)
    with Store(store, read_only=True) as db:
        panel = build_panel(db, u)
        ff = macro_panel(db, u, symbols=["FEDFUNDS"], index=panel.index)["FEDFUNDS"].ffill()
    v = ledgers["ai_wins"]["R6"]
    s, e = v.window
    rets = pd.DataFrame({"ai": panel.basket("ai", "equal").returns, "crypto": panel.basket("crypto", "equal").returns})
    rets = rets[(rets.index > s) & (rets.index <= e)].dropna()
    rf = ((1.0 + ff / 100.0) ** (1.0 / 252.0) - 1.0).reindex(rets.index)
    ref = empyrical.sharpe_ratio(rets["ai"], risk_free=rf) - empyrical.sharpe_ratio(rets["crypto"], risk_free=rf)
    assert_allclose(v.effect.value, ref, rtol=1e-9)
    assert v.statistics["risk_free"] == "FEDFUNDS"
    assert not any("zero risk-free" in c for c in v.caveats)
    assert v.statistics["ai_max_drawdown"] > v.statistics["crypto_max_drawdown"]  # crypto falls further
    assert v.statistics["vol_premium_shrank"] in {"yes", "no: it grew", "no significant change"}


# ----------------------------------------------------------------------------- insufficient data
def test_too_little_data_is_insufficient_and_says_why(scenarios):
    ledger = _ledger(scenarios["ai_wins"], as_of="2021-04-30")
    for v in ledger.verdicts:
        assert v.verdict == "insufficient data", v.claim_id
        assert v.missing and ("needed" in v.missing[0]), v.missing
        assert v.effect is None
    before = _ledger(scenarios["ai_wins"], as_of="2020-06-30")
    assert all(v.verdict == "insufficient data" and "on or before end 2020-06-30" in v.missing[0]
               for v in before.verdicts)


def test_basket_without_enough_members_names_them(tmp_path):
    store, uni, cfg = cs.build(tmp_path, "ai_wins", drop=("W2", "W3"))
    v = _ledger((store, uni, cfg), claims=["R9"])["R9"]
    assert v.verdict == "insufficient data"
    text = " ".join(v.missing)
    assert "2 of 4 members" in text and "W2 (0%)" in text and "W3 (0%)" in text
    assert any("no data" in c and "W2" in c for c in v.caveats)


def test_missing_macro_series_is_named(tmp_path):
    obs, macro = cs.frames("ai_wins")
    store = cs.write_store(tmp_path / "s.duckdb", obs, macro[macro["symbol"] != "DGS2"])
    (tmp_path / "u.toml").write_text(cs.UNIVERSE)
    (tmp_path / "c.toml").write_text(cs.CONFIG)
    v = _ledger((store, tmp_path / "u.toml", tmp_path / "c.toml"), claims=["R3"])["R3"]
    assert v.verdict == "insufficient data" and "DGS2" in v.missing[0]


# ----------------------------------------------------------------------------- determinism and as-of
def test_same_data_and_config_give_identical_json(scenarios, ledgers):
    again = _ledger(scenarios["noise"])
    assert again.to_json() == ledgers["noise"].to_json()


def test_as_of_ledger_ignores_data_added_later(tmp_path):
    as_of = "2023-06-30"
    obs, macro = cs.frames("ai_wins")
    full = cs.write_store(tmp_path / "full.duckdb", obs, macro)
    cut = cs.write_store(tmp_path / "cut.duckdb", obs[obs["date"] <= as_of], macro[macro["date"] <= as_of])
    (tmp_path / "u.toml").write_text(cs.UNIVERSE)
    (tmp_path / "c.toml").write_text(cs.CONFIG)
    uni, cfg = tmp_path / "u.toml", tmp_path / "c.toml"
    then = _ledger((cut, uni, cfg), as_of=as_of)
    later = _ledger((full, uni, cfg), as_of=as_of)
    assert later.to_json() == then.to_json()
    # claims stopped before they had a window (R5, R8, R12 here) can only be "insufficient data"
    assert all(v.window is not None or v.verdict == "insufficient data" for v in later.verdicts)
    windowed = [v for v in later.verdicts if v.window is not None]
    assert {v.claim_id for v in windowed} >= {*CONSTRUCTED, "R10"}
    assert all(v.window[1] <= pd.Timestamp(as_of) for v in windowed)
    latest = _ledger((full, uni, cfg))
    assert latest["R1"].window[1] > pd.Timestamp(as_of)
    assert json.loads(latest.to_json())["as_of"] is None and json.loads(then.to_json())["as_of"] == as_of


def test_window_overrides_and_config_checked_against_the_universe(scenarios, tmp_path):
    ledger = _ledger(scenarios["ai_wins"], start="2022-01-01", end="2022-12-31", claims=["r1", "R4"])
    assert ledger.ids == ["R1", "R4"]
    s, e = ledger["R1"].window
    assert pd.Timestamp("2021-12-30") <= s <= pd.Timestamp("2022-01-01") and e <= pd.Timestamp("2022-12-31")
    with pytest.raises(ParameterError, match="R13"):
        _ledger(scenarios["ai_wins"], claims=["R13"])
    store, uni, _ = scenarios["ai_wins"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[defaults]\nai = [\"ai\"]\ncrypto = [\"nope\"]\n")
    with pytest.raises(ConfigError, match="unknown basket") as info:
        _ledger((store, uni, bad), claims=["R1"])
    assert info.value.line == 3 and info.value.key == "defaults.crypto"


def test_verdict_objects_are_complete(ledgers):
    for v in ledgers["ai_wins"].verdicts:
        assert isinstance(v, Verdict)
        assert v.rule and "supported when" in v.rule and "{" not in v.rule
        assert v.parameters["seed"] == 20251121
        assert list(v.data.columns) == ["symbol", "source", "first_date", "last_observed"]


@pytest.mark.parametrize("weighting", ["cap", "basket"])
def test_weighting_options_and_lookback(scenarios, tmp_path, weighting):
    store, uni, _ = scenarios["ai_wins"]
    cfg = tmp_path / "c.toml"
    cfg.write_text(cs.CONFIG.replace('market = "SPY"', f'market = "SPY"\nweighting = "{weighting}"\nlookback_weeks = 52'))
    ledger = _ledger((store, uni, cfg), claims=["R1", "R6"])
    for v in ledger.verdicts:
        assert v.verdict == "supported", (v.claim_id, v.missing)
        s, e = v.window
        assert 360 <= (e - s).days <= 366  # the last 52 weeks
        assert v.parameters["weighting"] == weighting
    if weighting == "cap":
        assert any("cap-weighted" in c for c in ledger["R1"].caveats)
