"""R11 (institutional maturation changed crypto's behaviour): the rule pinned on constructed data.

Constructed stores, NYSE sessions 2019-07 to 2024-06: a market (SPY, 1% a
day) and a crypto basket (C1, C2: a common crypto return plus 0.3% member
noise) whose volatility and correlation with the market change on
``BREAK`` (2022-01-03). Before and after the break the common crypto return
is :math:`\\sigma (\\rho z_m + \\sqrt{1-\\rho^2} e)` with the market's
standardised return :math:`z_m` and independent noise :math:`e`;
``DESIGNS`` gives :math:`(\\sigma, \\rho)` before and after.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from rotation.claims import VERDICTS, evaluate_claims
from rotation.errors import ConfigError
from rotation.panel import build_panel, sessions
from rotation.store import Store
from rotation.universe import load_universe
from claims_synthetic import claim_inputs, evaluate_one
from synthetic_store import basket_toml, instrument_toml, price_panel, write_store

START, END = "2019-07-01", "2024-06-28"
BREAK = "2022-01-03"
#: (daily vol, correlation with the market) before -> after the break
DESIGNS = {
    "matured": ((0.04, 0.1), (0.02, 0.6)),
    "wilder": ((0.02, 0.6), (0.04, 0.1)),
    "same": ((0.03, 0.3), (0.03, 0.3)),
    "corr_only": ((0.03, 0.1), (0.03, 0.7)),
    "conflict": ((0.04, 0.6), (0.02, 0.0)),
}
EXPECTED = {"matured": "supported", "wilder": "contradicted", "same": "inconclusive", "corr_only": "supported",
            "conflict": "inconclusive"}

UNIVERSE = "\n".join([instrument_toml("C1", "C2"), instrument_toml("SPY", asset_class="etf"),
                      basket_toml("crypto", ["C1", "C2"], role="crypto")])

CONFIG = f"""
[defaults]
crypto = ["crypto"]
market = "SPY"
bootstrap_reps = 999

[claims.R11]
start = 2019-01-01
break_dates = ["{BREAK}", "2023-01-03"]
side_weeks = 104
min_side_weeks = 26
rolling_weeks = 26
min_segment_weeks = 20
"""


def _returns(kind: str, seed: int = 2) -> pd.DataFrame:
    (s0, r0), (s1, r1) = DESIGNS[kind]
    rng = np.random.default_rng(seed)
    idx = sessions(START, END)
    n = len(idx)
    z = rng.normal(0.0, 1.0, n)
    after = idx >= pd.Timestamp(BREAK)
    s, r = np.where(after, s1, s0), np.where(after, r1, r0)
    crypto = s * (r * z + np.sqrt(1.0 - r * r) * rng.normal(0.0, 1.0, n))
    out = {"SPY": 0.0003 + 0.01 * z}
    for k in (1, 2):
        out[f"C{k}"] = crypto + rng.normal(0.0, 0.003, n)
    frame = pd.DataFrame(out, index=idx)
    frame.iloc[0] = 0.0
    return frame


def _build(root: Path, kind: str, *, config: str = CONFIG) -> tuple[Path, Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    r = _returns(kind)
    write_store(root / "s.duckdb", {"yahoo": price_panel(r, 100.0, "simple")})
    return claim_inputs(root, UNIVERSE, config)


def _r11(paths, **kwargs):
    return evaluate_one(paths, "R11", **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("r11")
    return {kind: _build(root / kind, kind) for kind in DESIGNS}


@pytest.fixture(scope="module")
def verdicts(built):
    return {kind: _r11(paths) for kind, paths in built.items()}


@pytest.mark.parametrize("kind", list(DESIGNS))
def test_rule_gives_the_constructed_verdict(verdicts, kind):
    v = verdicts[kind]
    st = v.statistics
    assert v.verdict == EXPECTED[kind], (v.verdict, v.missing, st)
    (s0, r0), (s1, r1) = DESIGNS[kind]
    assert st["weeks_before"] == 104 and st["weeks_after"] >= 100
    # the constructed volatility (annualised) and correlation are recovered
    assert abs(st["vol_before"] - s0 * np.sqrt(252)) < 0.06 and abs(st["vol_after"] - s1 * np.sqrt(252)) < 0.06
    assert abs(st["corr_before"] - r0) < 0.2 and abs(st["corr_after"] - r1) < 0.2
    if kind == "matured":
        assert st["decided_by"] == "volatility" and v.effect.unit == "annualised volatility"
        assert v.effect.value < 0 and v.p_value < 1e-6 and st["corr_p_boot"] < 0.025
    if kind == "wilder":
        assert st["decided_by"] == "volatility" and v.effect.value > 0 and v.p_value < 1e-6
    if kind == "same":
        assert st["decided_by"] == "none" and st["vol_p_hac"] > 0.1 and st["corr_p_boot"] > 0.1
    if kind == "corr_only":
        assert st["decided_by"] == "correlation" and v.effect.unit == "correlation"
        assert v.interval.lo > 0 and v.p_value < 0.025 and st["vol_p_hac"] > 0.025
        assert "bootstrap" in v.interval.method
    if kind == "conflict":
        assert st["decided_by"] == "none" and any("the legs disagree" in c for c in v.caveats)
    tests = v.evidence["break_tests"]
    assert set(tests["break_date"]) == {pd.Timestamp(BREAK), pd.Timestamp("2023-01-03")}
    assert {"rolling", "break_tests", "segments"} <= set(v.evidence)


def test_effects_equal_hand_computed_moments(built, verdicts):
    """Annualised volatility (ddof 1, x sqrt 252) and weekly Pearson correlations recomputed with pandas."""
    store, uni, _ = built["matured"]
    with Store(store, read_only=True) as db:
        panel = build_panel(db, load_universe(uni))
    idx = panel.basket("crypto", "equal")
    bd = pd.Timestamp(BREAK)
    lo, hi = bd - pd.Timedelta(weeks=104), bd + pd.Timedelta(weeks=104)
    r = idx.returns
    r = r[(r.index >= lo) & (r.index < hi)].dropna()
    vol_b = r[r.index < bd].std(ddof=1) * np.sqrt(252)
    vol_a = r[r.index >= bd].std(ddof=1) * np.sqrt(252)
    v = verdicts["matured"]
    assert_allclose(v.effect.value, vol_a - vol_b, rtol=1e-10)
    lv = pd.DataFrame({"c": idx.level, "m": panel.prices["SPY"]})
    wk = lv.resample("W-FRI").last()
    wk = wk[wk.index <= lv.index[-1]]
    w = (wk / wk.shift(1) - 1.0).dropna()
    w = w[(w.index >= lo) & (w.index < hi)]
    cb = w[w.index < bd].corr().iloc[0, 1]
    ca = w[w.index >= bd].corr().iloc[0, 1]
    assert_allclose([v.statistics["corr_before"], v.statistics["corr_after"]], [cb, ca], rtol=1e-10)
    assert v.window[0] >= lo - pd.Timedelta(days=7) and v.window[1] < hi


def test_as_of_soon_after_the_break_is_insufficient(built):
    v = _r11(built["matured"], as_of="2022-03-31")
    assert v.verdict == "insufficient data"
    assert "weeks from 2022-01-03" in v.missing[0] and "at least 26 on each side" in v.missing[0]
    later = _r11(built["matured"], as_of="2022-12-30")
    assert later.verdict == "supported" and later.statistics["weeks_after"] < 60
    assert later.window[1] <= pd.Timestamp("2022-12-30")
    assert any("fewer than 104 weeks on a side" in c for c in later.caveats)
    # the second date has no data after it yet: its tests are skipped, and the verdict says so
    assert any("break tests at 2023-01-03 not computed" in c for c in later.caveats)


def test_as_of_verdict_equals_a_store_cut_at_that_date(built):
    as_of = "2023-03-31"
    store, uni, cfg = built["matured"]
    r = _returns("matured")
    rows = []
    for sym in r.columns:
        px = 100.0 * np.cumprod(1.0 + r[sym].to_numpy())
        rows.append(pd.DataFrame({"symbol": sym, "date": r.index, "close": px, "adj_close": px}))
    obs = pd.concat(rows, ignore_index=True)
    cut = store.parent / "cut.duckdb"
    with Store(cut) as db:
        db.write_observations(obs[obs["date"] <= as_of], source="yahoo")
    then = _r11((cut, uni, cfg), as_of=as_of)
    later = _r11((store, uni, cfg), as_of=as_of)
    assert then.verdict == "supported" and then.to_dict() == later.to_dict()


def test_deterministic(built, verdicts):
    again = _r11(built["corr_only"])
    assert again.to_dict() == verdicts["corr_only"].to_dict()


def test_configured_block_length(built, tmp_path):
    store, uni, cfg = built["corr_only"]
    c2 = tmp_path / "c.toml"
    c2.write_text(cfg.read_text().replace("bootstrap_reps = 999", "bootstrap_reps = 999\nblock_length = 4"))
    v = _r11((store, uni, c2))
    assert v.verdict == "supported" and "blocks of 4 weeks" in v.interval.method
    c2.write_text(cfg.read_text().replace("bootstrap_reps = 999", "bootstrap_reps = 999\nblock_length = 500"))
    v = _r11((store, uni, c2))
    assert any("bootstrap blocks cut from 500" in c for c in v.caveats)


@pytest.mark.parametrize(("old", "new", "key"), [
    (f'break_dates = ["{BREAK}", "2023-01-03"]', 'break_dates = ["2022-13-01"]', "claims.R11.break_dates"),
    ("min_side_weeks = 26", "min_side_weeks = 200", "claims.R11.min_side_weeks"),
])
def test_bad_settings_name_the_key(tmp_path, old, new, key):
    with pytest.raises(ConfigError) as info:
        _r11(_build(tmp_path, "same", config=CONFIG.replace(old, new)))
    assert info.value.key == key


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_data_gives_a_verdict_with_evidence(real_store, real_universe):
    v = evaluate_claims(real_store, real_universe, claims=["R11"])["R11"]
    assert v.verdict in VERDICTS and v.verdict != "insufficient data", v.missing
    st = v.statistics
    assert st["break_date"] == pd.Timestamp("2024-01-11")
    assert st["weeks_before"] == 104 and st["weeks_after"] >= 100
    assert 0.2 < st["vol_before"] < 1.5 and 0.2 < st["vol_after"] < 1.5
    assert -1 < st["corr_before"] < 1 and np.isfinite(st["corr_p_boot"]) and np.isfinite(v.p_value)
    tests = v.evidence["break_tests"]
    assert set(tests["break_date"]) == {pd.Timestamp("2024-01-11"), pd.Timestamp("2024-07-23")}
    assert len(v.evidence["rolling"]) > 300
    assert v.window[0] >= pd.Timestamp("2022-01-01") and v.window[1] <= pd.Timestamp("2026-01-10")
    as_of = evaluate_claims(real_store, real_universe, claims=["R11"], as_of="2024-03-31")["R11"]
    assert as_of.verdict == "insufficient data" and "2024-01-11" in as_of.missing[0]
