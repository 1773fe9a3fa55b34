"""R4 (Fed easing and returning liquidity rotate money back to crypto): the rule pinned on constructed data.

Constructed stores, NYSE sessions 2019-2024: an AI basket (A1, A2) and a crypto
basket (C1, C2) driven by a market (SPY) and their own factors, and the three
net-liquidity series (WALCL weekly in millions, WTREGEN weekly in billions,
RRPONTSYD daily in billions, with the universe's release lags). Fourteen
easing decisions (``fomc_cut``, one with a ``qt_end`` on the same day) 85
sessions apart, plus distractors (hikes, a cut before the window).

Scenarios (``SCENARIOS``: event effect, liquidity effect):

* event effect ``e``: the crypto members earn ``e * 0.6%`` a day more on day
  0..20 of every easing decision (a relative CAR of about ``e * 12%``);
* liquidity effect ``b``: on the first session after each week, the crypto
  members' return moves by ``b`` times that week's net-liquidity log growth
  (net liquidity leads crypto by one week).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from rotation.claims import VERDICTS, evaluate_claims
from rotation.claims._verdict import Effect
from rotation.claims.r4_easing import Leg, combine_legs, lagged_effect
from rotation.panel import build_panel, sessions
from rotation.store import Store
from rotation.universe import load_universe
from claims_synthetic import claim_inputs, evaluate_one
from synthetic_store import basket_toml, instrument_toml, macro_toml, price_panel, series, write_store

START, END = "2019-01-01", "2024-12-31"
SCENARIOS = {"event_up": (1.0, 0.0), "event_down": (-1.0, 0.0), "noise": (0.0, 0.0),
             "liquidity_up": (0.0, 3.0), "conflict": (1.0, -3.0)}
EXPECTED = {"event_up": "supported", "event_down": "contradicted", "noise": "inconclusive",
            "liquidity_up": "supported", "conflict": "inconclusive"}
DAILY_EFFECT = 0.006

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2", "C1", "C2"), instrument_toml("SPY", asset_class="etf"),
    basket_toml("ai", ["A1", "A2"], role="ai"), basket_toml("crypto", ["C1", "C2"], role="crypto"),
    *(macro_toml(s) for s in ("WALCL", "WTREGEN", "RRPONTSYD")),
])

CONFIG = """
[defaults]
ai = ["ai"]
crypto = ["crypto"]
market = "SPY"
start = 2019-06-01
min_weeks = 52

[claims.R4]
easing_kinds = ["fomc_cut", "qt_taper", "qt_end"]
events = "events.toml"
windows = ["[0,+5]", "[0,+20]"]
primary = "[0,+20]"
min_events = 3
granger_lags = 2
"""


def _cut_dates() -> list[pd.Timestamp]:
    idx = sessions(START, END)
    first = int(idx.searchsorted(pd.Timestamp("2020-03-18")))
    return [idx[first + 85 * k] for k in range(14)]


def _events_toml() -> str:
    rows = [(d.date(), "fomc_cut") for d in _cut_dates()]
    rows += [(pd.Timestamp("2019-03-20").date(), "fomc_cut"),     # before the window start
             (pd.Timestamp("2019-06-19").date(), "fomc_cut"),     # too little estimation data: left out
             (_cut_dates()[5].date(), "qt_end"),                  # same session as a cut: merged
             (pd.Timestamp("2022-05-04").date(), "fomc_hike"),
             (pd.Timestamp("2022-06-15").date(), "qt_start")]
    out = []
    for d, kind in rows:
        out += ["[[event]]", f"date = {d}", f'label = "{kind} on {d}"', f'kind = "{kind}"', 'affects = "all"', ""]
    return "\n".join(out)


def _frames(kind: str, seed: int = 21, tga_end: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    e, b = SCENARIOS[kind]
    rng = np.random.default_rng(seed)
    idx = sessions(START, END)
    n = len(idx)
    # net liquidity: WALCL a weekly random walk (Wednesdays), TGA and RRP constant
    weds = pd.date_range("2018-12-05", END, freq="W-WED")
    walcl = 4.0e6 * np.exp(np.cumsum(rng.normal(0.0, 0.01, len(weds))))        # millions of USD
    tga, rrp = 500.0, 200.0                                                      # billions of USD
    usable = weds + pd.Timedelta(days=2)
    pos = np.searchsorted(usable.to_numpy(), idx.to_numpy(), side="right") - 1  # last WALCL usable on each row
    nl = walcl[pos] * 1e6 - (tga + rrp) * 1e9
    # the last session of each W-FRI week, and the net-liquidity growth known then
    week = idx.to_period("W-FRI")
    last = np.r_[week[1:] != week[:-1], True]
    g = np.full(n, np.nan)
    lp = np.flatnonzero(last)
    g[lp[1:]] = np.diff(np.log(nl[lp]))
    m = rng.normal(0.0003, 0.01, n)
    f_ai = m + rng.normal(0.0, 0.008, n)
    f_cr = 1.2 * m + rng.normal(0.0, 0.012, n)
    for d in _cut_dates():                                 # relative drift on day 0..20 of each decision
        t0 = idx.get_loc(d)
        f_cr[t0: t0 + 21] += e * DAILY_EFFECT
    nxt = lp[1:-1] + 1                                     # first session of the following week
    f_cr[nxt] += b * g[lp[1:-1]]
    obs = {"SPY": m}
    for k in (1, 2):
        obs[f"A{k}"] = f_ai + rng.normal(0.0, 0.004, n)
        obs[f"C{k}"] = f_cr + rng.normal(0.0, 0.004, n)
    returns = pd.DataFrame(obs, index=idx)
    returns.iloc[0] = 0.0
    tga_dates = weds if tga_end is None else weds[weds <= pd.Timestamp(tga_end)]
    days = pd.date_range("2018-12-01", END, freq="D")
    macro = pd.concat([series("WALCL", weds, walcl), series("WTREGEN", tga_dates, tga),
                       series("RRPONTSYD", days, rrp)], ignore_index=True)
    return price_panel(returns), macro


def _build(root: Path, kind: str, *, macro: bool = True, tga_end: str | None = None,
           config: str = CONFIG, events: str | None = None) -> tuple[Path, Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    obs, mac = _frames(kind, tga_end=tga_end)
    write_store(root / "s.duckdb", {"yahoo": obs}, macro=mac if macro else None)
    return claim_inputs(root, UNIVERSE, config, events=events if events is not None else _events_toml())


def _r4(paths, **kwargs):
    return evaluate_one(paths, "R4", **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("r4")
    return {kind: _build(root / kind, kind) for kind in SCENARIOS}


@pytest.fixture(scope="module")
def verdicts(built):
    return {kind: _r4(paths) for kind, paths in built.items()}


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_rule_gives_the_constructed_verdict(verdicts, kind):
    v = verdicts[kind]
    st = v.statistics
    assert v.verdict == EXPECTED[kind], (v.verdict, v.missing, st)
    assert st["legs"] == "event, liquidity" and st["alpha_per_leg"] == pytest.approx(0.025)
    # 14 cuts (one merged with the QT end), all with a complete [0,+20] window
    assert st["n_relative_[0,+20]"] == 14
    e, b = SCENARIOS[kind]
    p_event, p_liq = st["p_kp_relative_[0,+20]"], st["liquidity_p_relative"]
    if kind in ("event_up", "event_down"):
        assert st["decided_by"] == "event" and v.effect.unit == "simple return"
        assert np.sign(v.effect.value) == e and abs(v.effect.value) > 0.05 and p_event < 0.005
        assert p_liq > 0.025
    if kind == "noise":
        assert st["decided_by"] == "none" and p_event > 0.1 and p_liq > 0.1
        assert v.effect.unit == "simple return"      # neither decided: the event leg's effect is shown
    if kind == "liquidity_up":
        assert st["decided_by"] == "liquidity" and v.effect.unit == "weekly return per unit log growth"
        assert p_liq < 1e-6 and p_event > 0.025
        # one week's growth moves crypto by b and AI by 0: the long-run effect is about b
        assert abs(v.effect.value - b) < 0.6 and v.interval.lo < b < v.interval.hi
        assert st["liquidity_sum_relative"] == v.effect.value and abs(st["liquidity_sum_ai"]) < 0.5
    if kind == "conflict":
        assert st["decided_by"] == "none" and p_event < 0.025 and p_liq < 0.025
        assert any("the legs disagree" in c for c in v.caveats)
    assert {"relative_cars", "relative_car_path", "event_summary", "liquidity", "cross_correlation",
            "lead_lag_tests"} <= set(v.evidence)


def test_events_are_the_easing_decisions_in_the_window(verdicts):
    v = verdicts["noise"]
    st = v.statistics
    used = st["easing_events_used"].split(", ")
    assert len(used) == 14 and "qt_end" in used[5] and " + " in used[5]
    assert not any("2019-03-20" in u or "hike" in u or "qt_start" in u for u in used)
    assert st["easing_events"] == 16   # 14 cuts + the QT end + the 2019-06-19 cut (in the window)
    assert any("2019-06-19" in c and "estimation window" in c for c in v.caveats)
    assert any("studied as one" in c for c in v.caveats)


def test_relative_car_equals_a_hand_computed_mean_model_car(built, verdicts):
    """Constant-mean model on the crypto-minus-AI spread, recomputed per event with numpy."""
    store, uni, _ = built["event_up"]
    with Store(store, read_only=True) as db:
        panel = build_panel(db, load_universe(uni))
    spread = (panel.basket("crypto", "equal").returns - panel.basket("ai", "equal").returns).to_numpy()
    idx = panel.index
    cars = []
    for d in _cut_dates():
        t0 = idx.get_loc(d)
        est = spread[t0 - 10 - 250: t0 - 10]
        est = est[np.isfinite(est)]
        cars.append(float(np.sum(spread[t0: t0 + 21] - est.mean())))
    v = verdicts["event_up"]
    rel = v.evidence["relative_cars"]
    rel = rel[rel["window"] == "[0,+20]"]
    assert_allclose(sorted(rel["car"]), sorted(cars), rtol=1e-8)
    assert_allclose(v.effect.value, np.mean(cars), rtol=1e-10)


def test_lagged_effect_matches_statsmodels_hac():
    import statsmodels.api as sm

    rng = np.random.default_rng(8)
    T, p = 300, 3
    x = rng.normal(size=T)
    y = np.zeros(T)
    for t in range(1, T):
        y[t] = 0.2 * y[t - 1] + 0.5 * x[t - 1] - 0.2 * x[t - 2] + rng.normal()
    le = lagged_effect(y, x, p, level=0.9)
    Y = y[p:]
    X = np.column_stack([np.ones(T - p)] + [y[p - j: T - j] for j in range(1, p + 1)]
                        + [x[p - j: T - j] for j in range(1, p + 1)])
    fit = sm.OLS(Y, X).fit(cov_type="HAC", cov_kwds={"maxlags": le["hac_lags"], "use_correction": True},
                           use_t=True)
    tt = fit.t_test(np.r_[np.zeros(1 + p), np.ones(p)][None, :])
    assert_allclose(le["sum"], float(np.squeeze(tt.effect)), rtol=1e-10)
    assert_allclose(le["se"], float(np.squeeze(tt.sd)), rtol=1e-10)
    assert_allclose(le["p"], float(np.squeeze(tt.pvalue)), rtol=1e-8)
    assert_allclose([le["ci_low"], le["ci_high"]], np.squeeze(tt.conf_int(alpha=0.1)), rtol=1e-8)
    assert le["n"] == T - p and abs(le["sum"] - 0.3) < 0.2


def _leg(name, est, p, supports="positive"):
    return Leg(name, est, p, supports, Effect(est, "u", name))


def test_combine_legs_bonferroni():
    v, d, a, notes = combine_legs([_leg("a", 1.0, 0.03), _leg("b", 1.0, 0.5)], 0.05)
    assert (v, d.name, a) == ("inconclusive", "a", 0.025)     # 0.03 is not below 0.05 / 2
    assert combine_legs([_leg("a", 1.0, 0.03)], 0.05)[0] == "supported"
    v, d, _, _ = combine_legs([_leg("a", 0.1, 0.6), _leg("b", 2.0, 0.001)], 0.05)
    assert (v, d.name) == ("supported", "b")
    v, d, _, _ = combine_legs([_leg("a", -1.0, 0.001), _leg("b", 0.3, 0.9)], 0.05)
    assert (v, d.name) == ("contradicted", "a")
    v, d, _, notes = combine_legs([_leg("a", 1.0, 0.001), _leg("b", -1.0, 0.001)], 0.05)
    assert v == "inconclusive" and "disagree" in notes[0]
    # a leg whose claimed direction is negative (e.g. a volatility fall)
    assert combine_legs([_leg("v", -0.2, 0.001, "negative")], 0.05)[0] == "supported"


def test_tga_ending_early_stops_the_liquidity_leg_and_says_so(tmp_path):
    v = _r4(_build(tmp_path, "liquidity_up", tga_end="2023-06-28"))
    st = v.statistics
    assert v.verdict == "supported" and st["decided_by"] == "liquidity"
    assert st["liquidity_end"] <= pd.Timestamp("2023-07-14")
    assert any("net liquidity stops" in c and "WTREGEN" in c for c in v.caveats)
    # the effect shown is the liquidity leg's: the verdict's window is its weeks (the event leg runs on)
    assert v.window == (st["liquidity_start"], st["liquidity_end"])
    assert max(pd.to_datetime(v.evidence["relative_cars"]["date"])) > pd.Timestamp("2024-01-01")


def test_without_macro_the_event_leg_decides_alone(tmp_path):
    v = _r4(_build(tmp_path, "event_up", macro=False))
    assert v.verdict == "supported" and v.statistics["alpha_per_leg"] == pytest.approx(0.05)
    assert any("decided on one leg only" in c and "net liquidity" in c for c in v.caveats)


def test_without_events_and_macro_it_is_insufficient(tmp_path):
    evs = "[[event]]\ndate = 2022-05-04\nlabel = \"hike\"\nkind = \"fomc_hike\"\naffects = \"all\"\n"
    v = _r4(_build(tmp_path, "noise", macro=False, events=evs))
    assert v.verdict == "insufficient data" and len(v.missing) == 2
    assert "no fomc_cut, qt_taper, qt_end events" in v.missing[0] and "net liquidity" in v.missing[1]


def test_as_of_uses_only_earlier_events_and_data(built, verdicts):
    cut = _r4(built["event_up"], as_of="2021-12-31")
    st = cut.statistics
    assert cut.window[1] <= pd.Timestamp("2021-12-31")
    idx = sessions(START, "2021-12-31")
    before = [d for d in _cut_dates() if d <= idx[-1]]
    complete = [d for d in before if idx.get_loc(d) + 20 <= len(idx) - 1]
    # + the 2019-06-19 cut and the QT end (on the sixth cut); a decision less than 20 sessions before the
    # as-of date would have no complete [0,+20] window yet
    assert st["easing_events"] == len(before) + 2 and st["n_relative_[0,+20]"] == len(complete)
    assert st["liquidity_end"] <= pd.Timestamp("2021-12-31")
    assert all(pd.Timestamp(u[:10]) <= pd.Timestamp("2021-12-31") for u in st["easing_events_used"].split(", "))
    again = _r4(built["event_up"])
    assert again.to_dict() == verdicts["event_up"].to_dict()


def test_as_of_verdict_equals_a_store_cut_at_that_date(built):
    """Rows stored after the as-of date (prices and the three macro series) never change the verdict."""
    as_of = "2022-09-30"
    store, uni, cfg = built["liquidity_up"]
    obs, macro = _frames("liquidity_up")
    cut = store.parent / "cut.duckdb"
    with Store(cut) as db:
        db.write_observations(obs[obs["date"] <= as_of], source="yahoo")
        db.write_macro(macro[macro["date"] <= as_of], source="fred")
    then = _r4((cut, uni, cfg), as_of=as_of)
    later = _r4((store, uni, cfg), as_of=as_of)
    assert then.verdict == "supported" and then.to_dict() == later.to_dict()


def test_crypto_target_option(built, tmp_path):
    store, uni, cfg = built["liquidity_up"]
    c2 = tmp_path / "c.toml"
    c2.write_text(cfg.read_text() + 'liquidity_target = "crypto"\n')
    (tmp_path / "events.toml").write_text((cfg.parent / "events.toml").read_text())
    v = _r4((store, uni, c2))
    assert v.verdict == "supported" and "crypto-side" in v.effect.description


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_data_gives_a_verdict_with_evidence(real_store, real_universe):
    v = evaluate_claims(real_store, real_universe, claims=["R4"])["R4"]
    assert v.verdict in VERDICTS and v.verdict != "insufficient data", v.missing
    st = v.statistics
    assert st["legs"] == "event, liquidity"
    # the shipped file: six cuts 2024-25, two QT slowdowns and the end of QT (same day as a cut)
    assert st["n_relative_[0,+20]"] >= 7 and "qt-end" in st["easing_events_used"]
    # the shared data's TGA (WTREGEN) ends in mid-2024: the liquidity leg stops there and the verdict says so
    assert pd.Timestamp("2024-06-01") <= st["liquidity_end"] <= pd.Timestamp("2024-08-01")
    assert any("net liquidity stops" in c and "WTREGEN" in c for c in v.caveats)
    assert st["liquidity_weeks"] > 300
    assert np.isfinite(v.p_value) and v.interval is not None
    assert len(v.evidence["liquidity"]) > 300 and len(v.evidence["relative_cars"]) >= 21
