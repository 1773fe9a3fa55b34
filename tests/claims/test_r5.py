"""R5 (AI supplied most of the S&P 500's gains): the rule pinned on constructed index data, and the real data.

Constructed stores, NYSE sessions 2022-2024: an index ("SP500") whose stored
membership holds two AI-basket members (A1, A2; 25% of the index cap at the
end of 2022 unless said otherwise), six other members (O1..O6), a member
removed in 2023 that has no data at all (GONE: survivorship) and an AI-basket
member that joined in 2023 (A3: not in the buy-and-hold index). Market caps
are price x a constant share count, stored daily or, like ../shared/data, as
one snapshot at the end (back-cast by the panel).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from rotation.analytics.concentration import PUBLISHED_CAP_INCREASE_SHARE, PUBLISHED_RETURN_SHARE
from rotation.claims import VERDICTS, evaluate_claims
from rotation.claims.r5_ai_share import excess_over_threshold
from rotation.panel import sessions
from rotation.store import Store
from claims_synthetic import claim_inputs, evaluate_one
from synthetic_store import basket_toml, instrument_toml, prices, spells, write_store

START, END = "2022-01-01", "2024-12-31"
T0 = pd.Timestamp("2022-12-30")
OTHERS = [f"O{i}" for i in range(1, 7)]

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2", "A3", "B1", "O1"),
    basket_toml("ai", ["A1", "A2", "A3"], role="ai"), basket_toml("notindex", ["B1"], role="ai"),
    basket_toml("custom", ["A1", "O1"], role="other"),
])

CONFIG = """
[defaults]
ai = ["ai"]
start = 2023-01-01
bootstrap_reps = 400
min_observations = 120

[claims.R5]
start = 2022-12-30
index = "SP500"
threshold = 0.5
linking = "grap"
"""

#: (AI drift, others' drift, AI start cap each, others' start cap each, equal totals)
DESIGNS = {
    "ai_wins": (0.003, 0.0003, 10.0, 10.0, False),
    "ai_lags": (-0.0005, 0.001, 10.0, 10.0, False),
    "even": (0.0005, 0.0005, 30.0, 10.0, True),  # AI holds half the cap and every member returns the same
}


def _prices(kind: str, seed: int = 2) -> tuple[pd.DataFrame, dict[str, float]]:
    """Daily prices (T, N) and each member's share count (cap on T0 / price on T0)."""
    d_ai, d_oth, cap_ai, cap_oth, equal = DESIGNS[kind]
    rng = np.random.default_rng(seed)
    idx = sessions(START, END)
    syms = ["A1", "A2", "A3", *OTHERS, "B1"]
    drift = np.array([d_ai, d_ai, d_ai, *[d_oth] * 6, 0.0])
    r = rng.normal(0.0, 0.006, (len(idx), len(syms))) + drift
    r[0] = 0.0
    after = idx > T0
    if equal:  # the same total log return over the window for every member (AI and others)
        r[after] -= r[after].mean(axis=0) - r[after].mean()
    px = pd.DataFrame(50.0 * np.exp(np.cumsum(r, axis=0)), index=idx, columns=syms)
    caps0 = {"A1": cap_ai, "A2": cap_ai, "A3": 5.0, **dict.fromkeys(OTHERS, cap_oth), "B1": 5.0}
    shares = {s: caps0[s] / px.at[T0, s] for s in syms}
    return px, shares


def _build(root: Path, kind: str, *, snapshot: bool = False, membership: bool = True,
           config: str = CONFIG) -> tuple[Path, Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    px, shares = _prices(kind)
    rows = []
    for s in px.columns:
        p = px[s].to_numpy()
        cap = p * shares[s]
        if snapshot:
            cap = np.where(px.index == px.index[-1], cap, np.nan)
        rows.append(prices(s, px.index, p, market_cap=cap))
    always = ("2015-01-02", None)
    members = {"A1": always, "A2": always, **dict.fromkeys(OTHERS, always), "GONE": ("2015-01-02", "2023-06-01"),
               "A3": ("2023-06-01", None)}
    write_store(root / "s.duckdb", {"yahoo": pd.concat(rows, ignore_index=True)},
                membership={"SP500": spells(members)} if membership else None)
    return claim_inputs(root, UNIVERSE, config)


def _r5(paths, **kwargs):
    return evaluate_one(paths, "R5", **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("r5")
    return {kind: _build(root / kind, kind) for kind in DESIGNS}


@pytest.fixture(scope="module")
def verdicts(built):
    return {kind: _r5(paths) for kind, paths in built.items()}


def _buy_and_hold_share(kind: str, end: pd.Timestamp) -> float:
    """Hand computation: sum over the set of cap_0 x R_i over the same sum for all constituents on T0."""
    px, shares = _prices(kind)
    members = ["A1", "A2", *OTHERS]
    cap0 = pd.Series({s: px.at[T0, s] * shares[s] for s in members})
    ret = pd.Series({s: px.at[end, s] / px.at[T0, s] - 1.0 for s in members})
    gain = cap0 * ret
    return float(gain[["A1", "A2"]].sum() / gain.sum())


@pytest.mark.parametrize(("kind", "expected"), [("ai_wins", "supported"), ("ai_lags", "contradicted"),
                                                ("even", "inconclusive")])
def test_rule_gives_the_constructed_verdict(verdicts, kind, expected):
    v = verdicts[kind]
    assert v.verdict == expected, (v.verdict, v.missing, v.statistics)
    assert v.interval.lo <= v.effect.value <= v.interval.hi
    if kind == "even":
        assert abs(v.effect.value - 0.5) < 1e-9 and v.p_value > 0.2
    else:
        assert v.p_value < 0.01
    assert v.window == (T0, pd.Timestamp("2024-12-31"))
    assert v.instruments == ("A1", "A2")
    assert {"contribution_path", "contributions", "comparison"} <= set(v.evidence)


def test_effect_is_the_buy_and_hold_share(verdicts):
    for kind, v in verdicts.items():
        ref = _buy_and_hold_share(kind, v.window[1])
        assert_allclose(v.effect.value, ref, rtol=1e-9, err_msg=kind)
        assert_allclose(v.statistics["set_return_share_buy_and_hold"], ref, rtol=1e-9)
        # constant shares: the share of the cap increase is the share of the return
        assert_allclose(v.statistics["set_cap_increase_share"], ref, rtol=1e-9)


def test_carino_share_matches_a_hand_linked_index(verdicts):
    """Carino (1999) linking from a daily cap-weighted index rebuilt here from the prices."""
    v = verdicts["ai_wins"]
    px, shares = _prices("ai_wins")
    members = ["A1", "A2", *OTHERS]
    p = px.loc[T0: v.window[1], members]
    caps = p * pd.Series(shares)[members]
    w = caps.div(caps.sum(axis=1), axis=0).shift(1).iloc[1:]
    r = (p / p.shift(1) - 1.0).iloc[1:]
    c = w * r
    rt = c.sum(axis=1)
    big_r = float(np.prod(1.0 + rt) - 1.0)
    k = np.log1p(rt) / rt
    kk = np.log1p(big_r) / big_r
    linked_set = float((k / kk * c[["A1", "A2"]].sum(axis=1)).sum())
    assert_allclose(v.statistics["set_linked_share_carino"], linked_set / big_r, rtol=1e-9)
    assert_allclose(v.statistics["index_return"], big_r, rtol=1e-10)
    # the bootstrap statistic on the data itself: R x (share - threshold)
    rows = c[["A1", "A2"]].sum(axis=1).to_frame("set").assign(other=c[OTHERS].sum(axis=1)).to_numpy()
    assert_allclose(excess_over_threshold(rows, 0.5, "grap"), big_r * (v.effect.value - 0.5), rtol=1e-9)


def test_verdict_carries_the_approximations_and_the_published_numbers(verdicts):
    v = verdicts["ai_wins"]
    text = " ".join(v.caveats)
    assert "Survivorship: 1 of the 9 SP500 members" in text and "GONE" in text
    assert "Constant shares" in text
    assert "A3 (not an SP500 member on 2022-12-30)" in text
    st = v.statistics
    assert st["published_return_share"] == PUBLISHED_RETURN_SHARE == 0.75
    assert st["published_cap_increase_share"] == PUBLISHED_CAP_INCREASE_SHARE == 0.90
    assert_allclose(st["return_share_minus_published_pp"], 100 * (v.effect.value - 0.75), rtol=1e-12)
    assert st["members_without_data"] == 1 and st["constituents_used"] == 8 and st["set_members"] == "A1, A2"
    cmp = v.evidence["comparison"].set_index("measure")
    assert cmp.loc["share of market-cap increase", "published"] == 0.90
    path = v.evidence["contribution_path"]
    # the running linked contributions add up to the index's compound return on every date
    assert_allclose(path["set_cumulative"] + path["other_cumulative"], path["index_cumulative"], atol=1e-12)


def test_one_cap_snapshot_is_back_cast_and_as_of_before_it_is_insufficient(tmp_path, verdicts):
    paths = _build(tmp_path, "ai_wins", snapshot=True)
    v = _r5(paths)
    assert_allclose(v.effect.value, verdicts["ai_wins"].effect.value, rtol=1e-9)
    assert any("back-cast" in c for c in v.caveats)
    early = _r5(paths, as_of="2024-06-28")  # the snapshot (2024-12-31) did not exist then
    assert early.verdict == "insufficient data"
    assert "market caps are needed" in early.missing[0] and "2024-06-28" in early.missing[0]


def test_without_membership_or_ai_members_in_the_index_it_says_so(tmp_path):
    v = _r5(_build(tmp_path / "a", "ai_wins", membership=False))
    assert v.verdict == "insufficient data"
    assert "membership of index SP500 is needed" in v.missing[0]
    other = _r5(_build(tmp_path / "b", "ai_wins", config=CONFIG.replace('ai = ["ai"]', 'ai = ["notindex"]')))
    assert other.verdict == "insufficient data" and "AI-linked set is needed" in other.missing[0]


def test_set_overrides_and_linking(built, tmp_path):
    store, uni, _ = built["ai_wins"]
    cfg = tmp_path / "c.toml"
    # another set: a basket of the universe named in `ai`
    cfg.write_text(CONFIG.replace('linking = "grap"', 'linking = "carino"\nai = ["custom"]'))
    v = _r5((store, uni, cfg))
    assert v.instruments == ("A1", "O1")
    assert v.parameters["linking"] == "carino"
    assert v.statistics["set_members"] == "A1, O1"
    last_year = tmp_path / "y.toml"
    last_year.write_text(CONFIG.replace("[claims.R5]", "[claims.R5]\nlookback_weeks = 52"))
    y = _r5((store, uni, last_year))
    s, e = y.window
    assert e == pd.Timestamp("2024-12-31") and 360 <= (e - s).days <= 366
    # the members on the new start: A3 joined in 2023 and is in the set now
    assert "A3" in y.instruments


def test_as_of_ignores_rows_stored_later(built, tmp_path):
    """A store holding only the rows dated up to the as-of date gives the same verdict."""
    as_of = "2024-06-28"
    store, uni, cfg = built["ai_wins"]
    with Store(store, read_only=True) as db:
        rows = db.read_observations(list(_prices("ai_wins")[0].columns), end=as_of).drop(columns="source")
        spells = db.read_membership("SP500").drop(columns="source")
    with Store(tmp_path / "cut.duckdb") as cut:
        cut.write_observations(rows, source="yahoo")
        cut.write_membership(spells, index_name="SP500", source="test")
    then = _r5((tmp_path / "cut.duckdb", uni, cfg), as_of=as_of)
    later = _r5(built["ai_wins"], as_of=as_of)
    assert then.verdict != "insufficient data"
    assert then.to_dict() == later.to_dict() and later.window[1] <= pd.Timestamp(as_of)


def test_deterministic_and_short_windows(built, verdicts):
    again = _r5(built["even"])
    assert again.to_dict() == verdicts["even"].to_dict()
    short = _r5(built["ai_wins"], as_of="2023-03-31")
    assert short.verdict == "insufficient data" and "needed" in short.missing[0]


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_data_gives_a_verdict_with_evidence(real_store, real_universe):
    v = evaluate_claims(real_store, real_universe, claims=["R5"])["R5"]
    assert v.verdict in VERDICTS and v.verdict != "insufficient data", v.missing
    assert v.window[0] == T0
    st = v.statistics
    # ~500 S&P members today; about 44 of the end-2022 members have no data (removed since)
    assert st["members_at_start"] > 490 and st["members_without_data"] > 10 and st["constituents_used"] > 400
    assert {"NVDA", "MSFT", "GOOGL", "META", "AMZN"} <= set(v.instruments)
    assert "SMCI" not in v.instruments  # joined the index in 2024
    assert 0.1 < st["set_linked_share"] < 1.0 and st["index_return"] > 0.3
    text = " ".join(v.caveats)
    assert "Survivorship" in text and "Constant shares" in text and "back-cast" in text
    assert "GOOG left out" in text  # share classes: Alphabet's cap counted once
