"""R8 (miners re-rate as AI/HPC infrastructure): the rule pinned on constructed data, and the real data.

Constructed stores, NYSE sessions 2021-2024 (about 1,000 rows, 208 weeks):
independent crypto and AI factor returns, and miners whose returns load on
them with loadings that move linearly from a first to a last pair over the
four years (``DESIGNS``). Deal announcements are injected as +20% day-0
jumps of one miner, listed in an events file written next to the store.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from rotation.claims import VERDICTS, evaluate_claims
from rotation.claims.r8_miners import shift_regression
from rotation.errors import ConfigError
from rotation.panel import build_panel, sessions
from rotation.store import Store
from rotation.universe import load_universe
from claims_synthetic import claim_inputs, evaluate_one
from synthetic_store import basket_toml, instrument_toml, price_panel, write_store

START, END = "2021-01-01", "2024-12-31"
SYMBOLS = ["A1", "A2", "C1", "C2", "M1", "M2", "M3", "SPY"]

#: (crypto loading, AI loading) at the start -> at the end
DESIGNS = {
    "to_ai": ((1.2, 0.1), (0.2, 1.2)),
    "to_crypto": ((0.2, 1.2), (1.2, 0.1)),
    "stable": ((1.0, 0.5), (1.0, 0.5)),
    "both_up": ((0.6, 0.1), (1.1, 1.2)),
}
#: deal announcements of M1 (sessions): +20% on day 0
DEALS = ("2022-06-15", "2023-03-15", "2024-06-12")

EVENTS = """
[[event]]
date = 2022-06-15
label = "M1 signs an HPC hosting contract"
kind = "deal"
affects = ["M1"]

[[event]]
date = 2023-03-15
label = "M1 signs a lease with a hyperscaler"
kind = "deal"
affects = ["M1"]

[[event]]
date = 2024-06-12
label = "M1 signs a colocation deal"
kind = "deal"
affects = ["miners"]

[[event]]
date = 2023-06-14
label = "an AI company signs a deal (not a miner)"
kind = "deal"
affects = ["A1"]

[[event]]
date = 2023-09-13
label = "M2 buys bitcoin (another kind)"
kind = "purchase"
affects = ["M2"]
"""


def _universe(miners: bool = True) -> str:
    syms = [s for s in SYMBOLS if miners or not s.startswith("M")]
    baskets = {"ai": ["A1", "A2"], "crypto": ["C1", "C2"], **({"miners": ["M1", "M2", "M3"]} if miners else {})}
    return "\n".join([*(instrument_toml(s, asset_class="etf" if s == "SPY" else "equity") for s in syms),
                      *(basket_toml(name, members, role="ai" if name == "ai" else "crypto")
                        for name, members in baskets.items())])


def _config(events: Path | None, miners: str | None = "miners") -> str:
    out = """
[defaults]
ai = ["ai"]
crypto = ["crypto"]
market = "SPY"
start = 2021-01-01
min_weeks = 52

[claims.R8]
parts = 3
rolling_weeks = 52
event_kinds = ["deal"]
"""
    if miners:
        out += f'miners = "{miners}"\n'
    out += f'events = "{events if events is not None else "default"}"\n'
    return out


def _returns(kind: str, seed: int = 5) -> pd.DataFrame:
    (c0, a0), (c1, a1) = DESIGNS[kind]
    rng = np.random.default_rng(seed)
    idx = sessions(START, END)
    n = len(idx)
    xc = rng.normal(0.0, 0.03, n)
    xa = rng.normal(0.0, 0.015, n)
    u = np.linspace(0.0, 1.0, n)
    bc, ba = c0 + (c1 - c0) * u, a0 + (a1 - a0) * u
    out = {"SPY": 0.4 * xa + rng.normal(0.0, 0.006, n)}
    for j in (1, 2):
        out[f"A{j}"] = xa + rng.normal(0.0, 0.004, n)
        out[f"C{j}"] = xc + rng.normal(0.0, 0.004, n)
    for j in (1, 2, 3):
        out[f"M{j}"] = bc * xc + ba * xa + rng.normal(0.0, 0.01, n)
    frame = pd.DataFrame(out, index=idx)
    for d in DEALS:
        frame.loc[pd.Timestamp(d), "M1"] += np.log(1.2)
    frame.iloc[0] = 0.0
    return frame


def _build(root: Path, kind: str, *, miners: bool = True, config: str | None = None) -> tuple[Path, Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    r = _returns(kind)
    if not miners:
        r = r.drop(columns=["M1", "M2", "M3"])
    write_store(root / "s.duckdb", {"yahoo": price_panel(r)})
    return claim_inputs(root, _universe(miners), config if config is not None else _config(root / "events.toml"),
                        events=EVENTS)


def _r8(paths, **kwargs):
    return evaluate_one(paths, "R8", **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("r8")
    return {kind: _build(root / kind, kind) for kind in DESIGNS}


@pytest.fixture(scope="module")
def verdicts(built):
    return {kind: _r8(paths) for kind, paths in built.items()}


@pytest.mark.parametrize(("kind", "expected"), [("to_ai", "supported"), ("to_crypto", "contradicted"),
                                                ("stable", "inconclusive"), ("both_up", "inconclusive")])
def test_rule_gives_the_constructed_verdict(verdicts, kind, expected):
    v = verdicts[kind]
    assert v.verdict == expected, (v.verdict, v.missing, v.statistics)
    st = v.statistics
    if kind == "to_ai":
        assert v.p_value < 0.001 and st["change_ai"] > 0 > st["change_crypto"]
    if kind == "to_crypto":
        assert v.p_value < 0.001 and st["change_ai"] < 0 < st["change_crypto"]
    if kind == "stable":
        assert v.p_value > 0.2 and v.interval.lo < 0 < v.interval.hi
    if kind == "both_up":
        # a significant shift toward AI, but the crypto loading rose too: not the claimed re-rating
        assert v.interval.lo > 0 and st["change_crypto"] > 0
        assert any("not both the claimed way" in c for c in v.caveats)
    assert {"loadings", "rolling_betas", "deal_cars", "deal_summary"} <= set(v.evidence)
    assert len(v.evidence["rolling_betas"]) > 100


def test_part_loadings_equal_separate_ols_fits(built, verdicts):
    """A fully interacted model's loadings per part equal OLS on that part alone (statsmodels)."""
    import statsmodels.api as sm

    store, uni, _ = built["to_ai"]
    with Store(store, read_only=True) as db:
        panel = build_panel(db, load_universe(uni))
    v = verdicts["to_ai"]
    s, e = v.window
    levels = pd.DataFrame({n: panel.basket(n, "equal").level for n in ("miners", "crypto", "ai")}).loc[:e]
    weekly = levels.resample("W-FRI").last()
    weekly = weekly[weekly.index <= e]
    r = (weekly / weekly.shift(1) - 1.0)
    r = r[r.index > s].dropna()
    n, size = len(r), len(r) // 3
    first, last = r.iloc[:size], r.iloc[2 * size:]
    f = sm.OLS(first["miners"], sm.add_constant(first[["crypto", "ai"]])).fit().params
    la = sm.OLS(last["miners"], sm.add_constant(last[["crypto", "ai"]])).fit().params
    st = v.statistics
    assert st["weeks"] == n
    assert_allclose([st["beta_crypto_first"], st["beta_ai_first"]], [f["crypto"], f["ai"]], rtol=1e-8)
    assert_allclose([st["beta_crypto_last"], st["beta_ai_last"]], [la["crypto"], la["ai"]], rtol=1e-8)
    assert_allclose(v.effect.value, (la["ai"] - f["ai"]) - (la["crypto"] - f["crypto"]), rtol=1e-8)
    # the constructed loadings (averaged over each part) are recovered
    assert abs(st["beta_ai_last"] - 1.2 * 5 / 6 - 0.1 / 6) < 0.2 and abs(st["beta_crypto_first"] - 1.1) < 0.2


def test_shift_regression_matches_statsmodels_hac():
    """The linear combination's HAC standard error equals statsmodels' t_test on the same model."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 150
    xc, xa = rng.normal(size=n), rng.normal(size=n)
    y = xc + 0.5 * xa + rng.normal(size=n)
    reg = shift_regression(y, xc, xa, parts=2, level=0.9)
    part = (np.arange(n) >= n // 2).astype(float)
    X = np.column_stack([np.ones(n), xc, xa, part, part * xc, part * xa])
    fit = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": reg["hac_lags"], "use_correction": True},
                           use_t=True)
    tt = fit.t_test(np.array([[0, 0, 0, 0, -1, 1.0]]))
    assert_allclose(reg["delta"], float(np.squeeze(tt.effect)), rtol=1e-10)
    assert_allclose(reg["delta_se"], float(np.squeeze(tt.sd)), rtol=1e-10)
    assert_allclose(reg["delta_p"], float(np.squeeze(tt.pvalue)), rtol=1e-8)
    assert_allclose(reg["delta_ci"], np.squeeze(tt.conf_int(alpha=0.1)), rtol=1e-8)


def test_deal_announcements_show_as_abnormal_returns(verdicts):
    v = verdicts["stable"]
    st = v.statistics
    # only the three deals of the miners: the AI company's deal and the purchase are not miner deals
    assert st["deal_events"] == 3
    cars = v.evidence["deal_cars"]
    cars = cars[cars["window"] == "[-1,+1]"]
    assert cars["event"].nunique() == 3
    # the third event names the basket: all three miners' CARs; only M1 jumped (+20% on day 0)
    assert sorted(cars["series"]) == ["M1", "M1", "M1", "M2", "M3"]
    m1 = cars[cars["series"] == "M1"]["car"].to_numpy()
    # the market model (SPY) leaves the crypto factor in the abnormal returns (about 5.5% noise per
    # CAR), common to the three miners: against the other miners on the same event, M1 is +20% up
    assert np.all(m1 > 0.05)
    both = cars[cars["event"] == cars.loc[cars["series"] == "M2", "event"].iloc[0]].set_index("series")["car"]
    assert abs(both["M1"] - both[["M2", "M3"]].mean() - 0.2) < 0.06
    assert st["deal_car_m1_p1_n"] == 5
    assert_allclose(st["deal_car_m1_p1"], cars["car"].mean(), rtol=1e-12)
    assert any("anecdotes" in c for c in v.caveats)


def test_default_events_file_without_miner_deals(tmp_path):
    """The shipped events name real miners (CORZ, IREN, ...), none of which this universe has."""
    v = _r8(_build(tmp_path, "to_ai", config=_config(None)))
    assert v.verdict == "supported" and v.statistics["deal_events"] == 0
    assert any("no deal announcements" in c for c in v.caveats)
    assert "deal_cars" not in v.evidence


def test_missing_miners_basket(tmp_path):
    v = _r8(_build(tmp_path / "a", "to_ai", miners=False, config=_config(None, miners=None)))
    assert v.verdict == "insufficient data"
    assert "miners_ai_hosting" in v.missing[0] and "needed" in v.missing[0]
    paths = _build(tmp_path / "b", "to_ai", miners=False, config=_config(None, miners="nope"))
    with pytest.raises(ConfigError, match="unknown basket") as info:
        _r8(paths)
    assert info.value.key == "claims.R8.miners"


def test_too_few_weeks_and_as_of(built, verdicts):
    v = _r8(built["to_ai"], as_of="2021-09-30")
    assert v.verdict == "insufficient data" and "needed" in v.missing[0]
    cut = _r8(built["to_ai"], as_of="2023-12-29")
    assert cut.window[1] <= pd.Timestamp("2023-12-29")
    assert cut.statistics["deal_events"] == 2  # the 2024 deal is after the as-of date
    again = _r8(built["to_ai"])
    assert again.to_dict() == verdicts["to_ai"].to_dict()


def test_events_path_is_relative_to_the_claims_file(tmp_path):
    paths = _build(tmp_path, "stable", config=_config(Path("events.toml")))
    assert 'events = "events.toml"' in paths[2].read_text()
    assert _r8(paths).statistics["deal_events"] == 3


def test_halves_instead_of_thirds(built, tmp_path):
    store, uni, cfg = built["to_ai"]
    halves = tmp_path / "c.toml"
    halves.write_text(cfg.read_text().replace("parts = 3", "parts = 2"))
    v = _r8((store, uni, halves))
    assert v.verdict == "supported"
    a, b = v.statistics["first_part"].split(".."), v.statistics["last_part"].split("..")
    assert pd.Timestamp(a[1]) < pd.Timestamp(b[0]) and (pd.Timestamp(b[0]) - pd.Timestamp(a[1])).days <= 7


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_data_gives_a_verdict_with_evidence(real_store, real_universe):
    v = evaluate_claims(real_store, real_universe, claims=["R8"])["R8"]
    assert v.verdict in VERDICTS and v.verdict != "insufficient data", v.missing
    st = v.statistics
    assert st["weeks"] > 150 and np.isfinite(st["beta_ai_last"]) and np.isfinite(st["change_crypto_p"])
    # the shipped events file lists hosting/lease deals of CORZ, WULF, IREN and CIFR
    assert st["deal_events"] >= 4
    assert "deal_cars" in v.evidence and set(v.evidence["deal_cars"]["series"]) <= set(
        real_universe.basket("miners_ai_hosting").members)
    assert any("crypto_majors" in c for c in v.caveats)
    # a guard against pathological slowness only (machine load varies); typically
    # 1.5 s (panel) + 0.5 s on the shared data
