"""R12 (institutional events move crypto-linked equities): the rule pinned on constructed data, and the real data.

Constructed stores, NYSE sessions 2021-2024: a market (SPY) and six stocks in
two baskets (``exch``: E1-E3, ``miners``: M1-M3) that load 1.0 on the market
plus independent noise (1.5% a day), and one stock outside them (X1). The
events file lists institutional events of the studied names (``EVENTS``);
in the ``up`` scenario every affected stock jumps +6% on day 0, in ``down``
-6%, in ``noise`` nothing happens. Distractors that must not be used: an
FOMC decision affecting ``all``, a deal of X1, an event before the window, an
event of another kind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from rotation.claims import VERDICTS, evaluate_claims, load_claims_config
from rotation.claims.r12_institutional import car_windows, merge_same_session
from rotation.errors import ConfigError
from rotation.events import Event, load_events
from rotation.panel import sessions
from rotation.store import Store
from claims_synthetic import claim_inputs, evaluate_one
from synthetic_store import basket_toml, instrument_toml, price_panel, write_store

START, END = "2021-01-01", "2024-12-31"
STOCKS = ["E1", "E2", "E3", "M1", "M2", "M3", "X1"]
JUMP = {"up": 0.06, "down": -0.06, "noise": 0.0}

#: (date, kind, affects, timing) of the studied events; day 0 per the timing convention
STUDIED = [
    ("2022-03-15", "etf_approval", ["exch", "miners"], "after_close"),
    ("2022-03-16", "etf_launch", ["exch", "miners"], "open"),   # same day 0 as the approval: merged
    ("2022-06-08", "ipo", ["E1", "E2"], "open"),
    ("2022-09-14", "deal", ["M1"], "open"),
    ("2023-01-11", "purchase", ["E3"], "open"),
    ("2023-04-19", "deal", ["M2", "M3"], "open"),
    ("2023-08-16", "index_inclusion", ["E1"], "after_close"),
    ("2024-02-14", "deal", ["miners"], "open"),
    ("2024-06-12", "ipo", ["exch"], "open"),
]
DISTRACTORS = [
    ("2021-03-10", "deal", ["M1"], "open"),        # before the window start (2021-06-01)
    ("2022-11-02", "fomc_cut", "all", "open"),      # not an institutional kind
    ("2023-06-14", "deal", ["X1"], "open"),         # not a crypto-linked equity
    ("2023-10-18", "product_launch", ["E2"], "open"),
]


def _events_toml() -> str:
    out = []
    for d, kind, affects, timing in STUDIED + DISTRACTORS:
        aff = '"all"' if affects == "all" else "[" + ", ".join(f'"{a}"' for a in affects) + "]"
        out += ["[[event]]", f"date = {d}", f'label = "{kind} of {affects}"', f'kind = "{kind}"',
                f"affects = {aff}", f'timing = "{timing}"', ""]
    return "\n".join(out)


UNIVERSE = "\n".join([
    instrument_toml(*STOCKS), instrument_toml("SPY", asset_class="etf"),
    basket_toml("exch", ["E1", "E2", "E3"], role="crypto"), basket_toml("miners", ["M1", "M2", "M3"], role="crypto"),
    basket_toml("other", ["X1"], role="other"),
])

CONFIG = """
[defaults]
market = "SPY"
start = 2021-06-01

[claims.R12]
equities = ["exch", "miners"]
event_kinds = ["etf_approval", "etf_launch", "ipo", "deal", "purchase", "index_inclusion"]
events = "events.toml"
windows = ["[-1,+1]", "[0,+5]"]
primary = "[-1,+1]"
min_events = 3
"""


def _day0(idx: pd.DatetimeIndex, d: str, timing: str) -> pd.Timestamp:
    ts = pd.Timestamp(d)
    return idx[idx > ts][0] if timing == "after_close" else idx[idx >= ts][0]


def _returns(kind: str, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = sessions(START, END)
    n = len(idx)
    m = rng.normal(0.0003, 0.01, n)
    out = {"SPY": m}
    for s in STOCKS:
        out[s] = m + rng.normal(0.0, 0.015, n)
    frame = pd.DataFrame(out, index=idx)
    members = {"exch": ["E1", "E2", "E3"], "miners": ["M1", "M2", "M3"]}
    hit: dict[pd.Timestamp, set[str]] = {}
    for d, _, affects, timing in STUDIED:
        names = {m for a in affects for m in members.get(a, [a])}
        hit.setdefault(_day0(idx, d, timing), set()).update(names)
    for day, names in hit.items():   # one jump per stock and session, even when two events share it
        for s in names:
            frame.loc[day, s] += JUMP[kind]
    frame.iloc[0] = 0.0
    return frame


def _build(root: Path, kind: str, *, config: str = CONFIG, events: str | None = None,
           universe: str = UNIVERSE) -> tuple[Path, Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    r = _returns(kind)
    write_store(root / "s.duckdb", {"yahoo": price_panel(r, 40.0, "simple")})
    return claim_inputs(root, universe, config, events=events if events is not None else _events_toml())


def _r12(paths, **kwargs):
    return evaluate_one(paths, "R12", **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("r12")
    return {kind: _build(root / kind, kind) for kind in JUMP}


@pytest.fixture(scope="module")
def verdicts(built):
    return {kind: _r12(paths) for kind, paths in built.items()}


@pytest.mark.parametrize(("kind", "expected"), [("up", "supported"), ("down", "contradicted"),
                                                ("noise", "inconclusive")])
def test_rule_gives_the_constructed_verdict(verdicts, kind, expected):
    v = verdicts[kind]
    assert v.verdict == expected, (v.verdict, v.missing, v.p_value)
    st = v.statistics
    # 8 events after merging the same-session approval and launch; 6+2+1+1+2+1+3+3 = 19 pairs
    assert st["events"] == 8 and st["cars"] == 19 and st["series"] == 6
    if kind == "noise":
        assert v.p_value > 0.2 and v.interval.lo < 0 < v.interval.hi
    else:
        assert v.p_value < 1e-4
        # a one-day jump of +-6% (compounded into the price: the simple return jumps by that much)
        assert abs(v.effect.value - JUMP[kind]) < 0.02
        assert v.interval.lo < v.effect.value < v.interval.hi
    assert v.effect.unit == "simple return" and "[-1,+1]" in v.effect.description
    assert set(v.evidence) >= {"cars", "car_path", "summary", "by_kind"}
    assert v.baskets == ("exch", "miners") and "X1" not in v.instruments


def test_effect_is_the_mean_of_market_model_cars(built, verdicts):
    """Each pair's CAR recomputed with statsmodels OLS on its own estimation window."""
    import statsmodels.api as sm

    r = _returns("up")
    idx = r.index
    v = verdicts["up"]
    cars = v.evidence["cars"]
    assert len(cars) == 19 and set(cars["window"]) == {"[-1,+1]"}
    mine = []
    for row in cars.itertuples(index=False):
        first = row.event.split(" + ")[0]
        ev = next(e for e in load_events(built["up"][2].parent / "events.toml") if e.id == first)
        t0 = idx.get_loc(_day0(idx, str(ev.date), ev.timing))
        est = slice(t0 - 10 - 250, t0 - 10)
        fit = sm.OLS(r[row.series].iloc[est], sm.add_constant(r["SPY"].iloc[est])).fit()
        win = slice(t0 - 1, t0 + 2)
        ar = r[row.series].iloc[win] - fit.params["const"] - fit.params["SPY"] * r["SPY"].iloc[win]
        mine.append(ar.sum())
        assert_allclose(row.car, ar.sum(), rtol=1e-6, atol=1e-10)
    assert_allclose(v.effect.value, np.mean(mine), rtol=1e-9)


def test_only_institutional_events_of_the_studied_names_in_the_window(verdicts):
    v = verdicts["up"]
    used = v.statistics["events_used"].split(", ")
    assert len(used) == 8
    assert used[0] == "2022-03-15 etf_approval + 2022-03-16 etf_launch"
    assert not any(k in v.statistics["events_used"] for k in ("fomc", "product_launch", "2021-03-10", "2023-06-14"))
    assert any("studied as one" in c and "2022-03-16" in c for c in v.caveats)
    # per kind: the merged approval+launch is its own cell
    kinds = set(v.evidence["by_kind"]["kind"])
    assert "etf_approval+etf_launch" in kinds and "fomc_cut" not in kinds


def test_as_of_uses_only_earlier_events(built, verdicts):
    cut = _r12(built["up"], as_of="2023-06-30")
    assert cut.window[1] <= pd.Timestamp("2023-06-30")
    assert cut.statistics["events"] == 5          # the events up to 2023-04-19
    assert "2023-08-16" not in cut.statistics["events_used"]
    early = _r12(built["up"], as_of="2022-07-15")  # two events
    assert early.verdict == "insufficient data"
    assert "2 " in early.missing[0] and "at least 3 events" in early.missing[0]


def test_as_of_verdict_equals_a_store_cut_at_that_date(built):
    as_of = "2023-09-29"
    store, uni, cfg = built["up"]
    r = _returns("up")
    rows = []
    for s in r.columns:
        px = 40.0 * np.cumprod(1.0 + r[s].to_numpy())
        rows.append(pd.DataFrame({"symbol": s, "date": r.index, "close": px, "adj_close": px}))
    obs = pd.concat(rows, ignore_index=True)
    cut = store.parent / "cut.duckdb"
    with Store(cut) as db:
        db.write_observations(obs[obs["date"] <= as_of], source="yahoo")
    then = _r12((cut, uni, cfg), as_of=as_of)
    later = _r12((store, uni, cfg), as_of=as_of)
    assert then.verdict == "supported" and then.to_dict() == later.to_dict()


def test_no_institutional_events_is_insufficient(tmp_path):
    evs = "[[event]]\ndate = 2022-05-04\nlabel = \"a hike\"\nkind = \"fomc_hike\"\naffects = \"all\"\n"
    v = _r12(_build(tmp_path, "up", events=evs))
    assert v.verdict == "insufficient data"
    assert "no etf_approval, etf_launch, ipo, deal, purchase, index_inclusion events" in v.missing[0]
    assert any("no events of kind etf_approval" in c for c in v.caveats)


def test_deterministic(built, verdicts):
    again = _r12(built["noise"])
    assert again.to_dict() == verdicts["noise"].to_dict()


def test_without_the_default_baskets_it_says_so(tmp_path):
    """The built-in default baskets may be absent from a user's universe; an explicit name must exist."""
    cfg = CONFIG.replace('equities = ["exch", "miners"]\n', "")
    v = _r12(_build(tmp_path / "a", "up", config=cfg))
    assert v.verdict == "insufficient data" and "crypto_equities" in v.missing[0]
    with pytest.raises(ConfigError, match="unknown basket") as info:
        _r12(_build(tmp_path / "b", "up", config=CONFIG.replace('"miners"]', '"nope"]')))
    assert info.value.key == "claims.R12.equities"


@pytest.mark.parametrize(("windows", "primary", "message"), [
    ('["[-1,+1]", "0,5"]', "[-1,+1]", "is not a window"),
    ('["[-1,+1]", "[5,0]"]', "[-1,+1]", "ends before it starts"),
    ('["[-1,+1]", "[0,+5]"]', "[0,+20]", "is not one of the windows"),
])
def test_bad_windows_name_the_key(tmp_path, windows, primary, message):
    cfg = CONFIG.replace('windows = ["[-1,+1]", "[0,+5]"]', f"windows = {windows}").replace(
        'primary = "[-1,+1]"', f'primary = "{primary}"')
    with pytest.raises(ConfigError, match=message) as info:
        _r12(_build(tmp_path, "up", config=cfg))
    assert info.value.key in {"claims.R12.windows", "claims.R12.primary"}


def test_window_parser_and_session_merge(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.replace('["[-1,+1]", "[0,+5]"]', '[" [ -2 , +3 ] ", "[0,0]", "[-1,+1]"]'))
    from rotation.claims.r12_institutional import PARAMS

    params = load_claims_config(path).params("R12", PARAMS)
    assert car_windows(params) == ([(-2, 3), (0, 0), (-1, 1)], (-1, 1))
    idx = sessions("2024-01-02", "2024-01-31")
    day = pd.Timestamp("2024-01-10").date()
    a = Event(date=day, label="approval", kind="etf_approval", affects=("A",), timing="after_close", id="a")
    b = Event(date=pd.Timestamp("2024-01-11").date(), label="launch", kind="etf_launch", affects=("B", "A"), id="b")
    c = Event(date=pd.Timestamp("2024-01-13").date(), label="saturday", kind="deal", affects=("all",), id="c")
    d = Event(date=pd.Timestamp("2024-01-15").date(), label="holiday", kind="deal", affects=("C",), id="d")
    out, notes = merge_same_session([a, b, c, d], idx)
    # a (after the close of the 10th) and b share the 11th; c (Saturday) and d (MLK day) share the 16th
    assert [e.id for e in out] == ["a + b", "c + d"]
    assert out[0].affects == ("A", "B") and out[0].kind == "etf_approval+etf_launch" and out[0].timing == "after_close"
    assert out[1].affects == ("all",)
    assert len(notes) == 2 and "2024-01-16" in notes[1]


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_data_gives_a_verdict_with_evidence(real_store, real_universe):
    v = evaluate_claims(real_store, real_universe, claims=["R12"])["R12"]
    assert v.verdict in VERDICTS and v.verdict != "insufficient data", v.missing
    st = v.statistics
    # the shipped file: BTC and ETH ETF approvals/launches, the COIN S&P inclusion, two IPOs, five deals
    assert st["events"] >= 8 and st["cars"] >= 20
    assert "btc-etf-approval + btc-etf-launch" in st["events_used"]
    assert np.isfinite(v.p_value) and v.interval.lo < v.effect.value < v.interval.hi
    assert set(v.evidence["cars"]["series"]) <= set(real_universe.basket("crypto_equities").members) | set(
        real_universe.basket("miners_ai_hosting").members)
    assert any("no events of kind purchase" in c for c in v.caveats)
    assert any("CRCL" in c for c in v.caveats)      # no price history: left out, and said so
    assert len(v.data) and v.window[1] <= pd.Timestamp("2026-08-21")
    # the ledger's JSON of this claim is deterministic
    again = evaluate_claims(real_store, real_universe, claims=["R12"])["R12"]
    assert again.to_dict() == v.to_dict()
