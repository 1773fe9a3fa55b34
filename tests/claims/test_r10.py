"""R10 (AI correction risk and spill-over): the decision rule pinned on constructed data, and the real data.

Constructed stores, NYSE sessions 2016-2023 (about 2,000 rows, 415 weeks):
the AI basket drifts up and, in the "frequent" designs, crashes by about 15%
over ten sessions every half year (so 10%+ corrections happen about twice a
year); the crypto and miners baskets are built as ``beta x`` the AI return
plus noise. All members are declared equities so every series has the same
sessions (the claim's logic, not the panel's 24/7 sampling, is under test).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import optimize, stats

from rotation.claims import VERDICTS, evaluate_claims
from rotation.claims.r10_correction import poisson_rate_interval
from rotation.errors import ConfigError
from rotation.panel import build_panel, sessions
from rotation.store import Store
from rotation.universe import load_universe
from claims_synthetic import claim_inputs, evaluate_one
from synthetic_store import basket_toml, instrument_toml, price_panel, write_store

START, END = "2016-01-01", "2023-12-31"


def _universe(miners: bool = True) -> str:
    syms = ["A1", "A2", "C1", "C2", *(["M1", "M2"] if miners else [])]
    baskets = {"ai": ["A1", "A2"], "crypto": ["C1", "C2"], **({"miners": ["M1", "M2"]} if miners else {})}
    return "\n".join([instrument_toml(*syms),
                      *(basket_toml(name, members, role="ai" if name == "ai" else "crypto")
                        for name, members in baskets.items())])


CONFIG = """
[defaults]
ai = ["ai"]
crypto = ["crypto"]
start = 2016-01-01
min_weeks = 52

[claims.R10]
miners = "miners"
correction = 0.10
severe = 0.15
min_per_year = 1.0
null_margin = 0.25
min_down_weeks = 20
"""
# the same without naming the miners basket: the built-in default ("miners_ai_hosting") applies
CONFIG_DEFAULT_MINERS = CONFIG.replace('miners = "miners"\n', "")

#: (crash every N sessions or 0, AI noise, crypto beta, crypto noise, miners beta)
DESIGNS = {
    "spills": (126, 0.010, 1.2, 0.010, 1.8),
    "no_spill": (126, 0.010, 0.0, 0.008, 1.5),
    "rare": (0, 0.004, 1.2, 0.010, 1.8),
    "noisy": (126, 0.010, 0.3, 0.060, 1.8),
}


def _returns(kind: str, seed: int = 11) -> pd.DataFrame:
    every, ai_sd, b_c, c_sd, b_m = DESIGNS[kind]
    rng = np.random.default_rng(seed)
    idx = sessions(START, END)
    n = len(idx)
    ai = (0.002 if every else 0.0005) + ai_sd * rng.normal(size=n)
    if every:
        for k in range(60, n - 10, every):
            ai[k:k + 10] -= 0.016 + 0.002  # about -15% over ten sessions (drift cancelled)
    out = {}
    for j in (1, 2):
        out[f"A{j}"] = ai + 0.002 * rng.normal(size=n)
        out[f"C{j}"] = b_c * ai + c_sd * rng.normal(size=n)
        out[f"M{j}"] = b_m * ai + 0.01 * rng.normal(size=n)
    frame = pd.DataFrame(out, index=idx)
    frame.iloc[0] = 0.0
    return frame


def _build(root: Path, kind: str, *, miners: bool = True, config: str = CONFIG) -> tuple[Path, Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    r = _returns(kind)
    if not miners:
        r = r.drop(columns=["M1", "M2"])
    write_store(root / "s.duckdb", {"yahoo": price_panel(r)})
    return claim_inputs(root, _universe(miners), config)


def _r10(paths, **kwargs):
    return evaluate_one(paths, "R10", **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("r10")
    return {kind: _build(root / kind, kind) for kind in DESIGNS}


@pytest.fixture(scope="module")
def verdicts(built):
    return {kind: _r10(paths) for kind, paths in built.items()}


@pytest.mark.parametrize(("kind", "expected"), [("spills", "supported"), ("no_spill", "contradicted"),
                                                ("rare", "contradicted"), ("noisy", "inconclusive")])
def test_rule_gives_the_constructed_verdict(verdicts, kind, expected):
    v = verdicts[kind]
    assert v.verdict == expected, (v.verdict, v.missing, v.statistics)
    st = v.statistics
    if kind == "rare":
        assert st["corrections_per_year_ci_high"] < 1.0 and st["live_risk"] is False
        assert st["spill_over_crypto"] is True  # contradicted by the rarity alone
    else:
        assert st["corrections_per_year"] >= 1.2 and st["live_risk"] is True
    if kind == "spills":
        assert v.interval.lo > 0 and st["miners_downside_ci_low"] > 0 and v.p_value < 0.001
    if kind == "no_spill":
        assert v.interval.hi < 0.25 and v.interval.lo < 0 < v.interval.hi  # about zero, tightly
    if kind == "noisy":
        assert v.interval.lo < 0 and v.interval.hi > 0.25
    assert {"drawdown_frequency", "episodes", "scenario", "analogue_windows", "drawdown_path"} <= set(v.evidence)
    assert set(v.evidence["scenario"]["method"]) >= {"beta", "downside_beta", "analogues"}
    assert v.window[0] <= pd.Timestamp("2016-01-05")


def test_effect_is_the_down_week_ols_slope(built, verdicts):
    """statsmodels OLS of weekly crypto on weekly AI returns in the AI-down weeks only."""
    import statsmodels.api as sm

    store, uni, _ = built["spills"]
    with Store(store, read_only=True) as db:
        panel = build_panel(db, load_universe(uni))
    v = verdicts["spills"]
    s, e = v.window
    levels = pd.DataFrame({n: panel.basket(n, "equal").level for n in ("ai", "crypto", "miners")}).loc[:e]
    weekly = levels.resample("W-FRI").last()
    weekly = weekly[weekly.index <= e]
    r = (weekly / weekly.shift(1) - 1.0)
    r = r[r.index > s].dropna()
    down = r[r["ai"] < 0]
    fit = sm.OLS(down["crypto"], sm.add_constant(down["ai"])).fit()
    assert_allclose(v.effect.value, fit.params["ai"], rtol=1e-9)
    fit_m = sm.OLS(down["miners"], sm.add_constant(down["ai"])).fit()
    assert_allclose(v.statistics["miners_downside_beta"], fit_m.params["ai"], rtol=1e-9)
    assert v.statistics["weeks"] == len(r) and v.statistics["down_weeks"] == len(down)
    # the -10% scenario response of the downside-beta method is beta x shock
    sc = v.evidence["scenario"]
    row = sc[(sc["series"] == "crypto") & (sc["method"] == "downside_beta") & (sc["shock"] == -0.10)].iloc[0]
    assert_allclose(row["response"], -0.10 * fit.params["ai"], rtol=1e-9)


def _count_episodes(level: np.ndarray, depth: float) -> int:
    """Underwater runs (from a peak back to it) whose drawdown reaches ``depth``: a plain loop."""
    peak, count, counted = level[0], 0, False
    for x in level[1:]:
        if x >= peak:
            peak, counted = x, False
            continue
        if not counted and x / peak - 1.0 <= -depth + 1e-12:
            count, counted = count + 1, True
    return count


def test_correction_counts_match_a_plain_loop(built, verdicts):
    store, uni, _ = built["spills"]
    with Store(store, read_only=True) as db:
        panel = build_panel(db, load_universe(uni))
    v = verdicts["spills"]
    s, e = v.window
    level = panel.basket("ai", "equal").level.loc[s:e].to_numpy()
    assert v.statistics["corrections"] == _count_episodes(level, 0.10)
    assert v.statistics["severe_corrections"] == _count_episodes(level, 0.15)
    years = (e - s).days / 365.25
    assert_allclose(v.statistics["corrections_per_year"], v.statistics["corrections"] / years, rtol=1e-12)


@pytest.mark.parametrize("k", [0, 1, 4, 17])
def test_poisson_interval_is_the_exact_garwood_interval(k):
    """Reference: the rates at which P(X >= k) and P(X <= k) equal (1 - level) / 2, solved with brentq."""
    lo, hi = poisson_rate_interval(k, 8.0, 0.95)
    if k == 0:
        assert lo == 0.0
    else:
        ref_lo = optimize.brentq(lambda m: stats.poisson.sf(k - 1, m) - 0.025, 1e-9, 100.0)
        assert_allclose(lo * 8.0, ref_lo, rtol=1e-8)
    ref_hi = optimize.brentq(lambda m: stats.poisson.cdf(k, m) - 0.025, 1e-9, 200.0)
    assert_allclose(hi * 8.0, ref_hi, rtol=1e-8)


def test_without_a_miners_basket_crypto_alone_decides(tmp_path):
    v = _r10(_build(tmp_path, "spills", miners=False, config=CONFIG_DEFAULT_MINERS))
    assert v.verdict == "supported"
    assert "miners_downside_beta" not in v.statistics
    assert any("no basket 'miners_ai_hosting'" in c for c in v.caveats)
    assert any("crypto side alone" in c for c in v.caveats)
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.replace('miners = "miners"', 'miners = "nope"'))
    with pytest.raises(ConfigError, match="unknown basket") as info:
        _r10((tmp_path / "s.duckdb", tmp_path / "u.toml", bad))
    assert info.value.key == "claims.R10.miners"


def test_too_little_data_is_insufficient(built):
    v = _r10(built["spills"], as_of="2016-09-30")
    assert v.verdict == "insufficient data" and "needed" in v.missing[0]
    assert "joint weeks" in v.missing[0]
    before = _r10(built["spills"], as_of="2015-06-30")
    assert before.verdict == "insufficient data" and "2015-06-30" in before.missing[0]


def test_deterministic_and_as_of(built, verdicts, tmp_path):
    again = _r10(built["noisy"])
    assert again.to_dict() == verdicts["noisy"].to_dict()
    as_of = "2020-12-31"
    store, uni, cfg = built["spills"]
    with Store(store, read_only=True) as db:
        rows = db.read_observations(["A1", "A2", "C1", "C2", "M1", "M2"], end=as_of).drop(columns="source")
    with Store(tmp_path / "cut.duckdb") as cut:
        cut.write_observations(rows, source="yahoo")
    then = _r10((tmp_path / "cut.duckdb", uni, cfg), as_of=as_of)
    later = _r10(built["spills"], as_of=as_of)
    assert then.to_dict() == later.to_dict()
    assert later.window[1] <= pd.Timestamp(as_of)
    assert later.verdict in VERDICTS and later.statistics["weeks"] < verdicts["spills"].statistics["weeks"]


def test_bad_thresholds_are_refused(built, tmp_path):
    store, uni, _ = built["spills"]
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.replace("severe = 0.15", "severe = 0.05"))
    with pytest.raises(ConfigError, match="at least correction") as info:
        _r10((store, uni, bad))
    assert info.value.key == "claims.R10.severe"


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_data_gives_a_verdict_with_evidence(real_store, real_universe):
    v = evaluate_claims(real_store, real_universe, claims=["R10"])["R10"]
    assert v.verdict in VERDICTS and v.verdict != "insufficient data", v.missing
    st = v.statistics
    # 2018-2026: the AI baskets fell 10%+ in 2018, 2020, 2022, 2024 and 2025 at least
    assert st["corrections"] >= 5 and st["years"] > 8
    assert st["severe_corrections"] <= st["corrections"]
    assert np.isfinite(st["miners_downside_beta"]) and st["weeks"] > 300
    assert any("crypto_majors" in c for c in v.caveats)  # its data end before the equities'
    sc = v.evidence["scenario"]
    assert set(sc["series"]) == {"crypto", "miners_ai_hosting"}
    # a guard against pathological slowness only (machine load varies); typically
    # 1.5 s (panel) + 0.1 s on the shared data
