"""Claims framework: verdict invariants, ledger JSON, bootstrap helper, decision helpers, registry."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import claims_synthetic as cs
from rotation.claims import (
    CLAIM_IDS,
    NOT_IMPLEMENTED,
    REGISTRY,
    Effect,
    Interval,
    Ledger,
    PendingClaim,
    Verdict,
    block_bootstrap,
    decide_interval,
    decide_p,
    load_claims_config,
)
from rotation.claims import _registry
from rotation.claims._registry import claim_module
from rotation.errors import DataError, ParameterError

WIN = (pd.Timestamp("2023-01-02"), pd.Timestamp("2023-12-29"))


def _verdict(**kw) -> Verdict:
    base = dict(claim_id="R1", title="t", verdict="supported", rule="r", effect=Effect(0.5, "log return", "d"),
                interval=Interval(0.1, 0.9, 0.95, "m"), p_value=0.01, window=WIN)
    base.update(kw)
    return Verdict(**base)


# ----------------------------------------------------------------------------- verdict invariants
def test_verdict_refuses_what_it_cannot_rest_on():
    with pytest.raises(ParameterError, match="not one of"):
        _verdict(verdict="probably")
    with pytest.raises(ParameterError, match="must say what is missing"):
        _verdict(verdict="insufficient data")
    with pytest.raises(ParameterError, match="finite effect"):
        _verdict(effect=None)
    with pytest.raises(ParameterError, match="finite effect"):
        _verdict(effect=Effect(float("nan"), "x", "y"))
    with pytest.raises(ParameterError, match="interval or a p-value"):
        _verdict(interval=None, p_value=None)
    with pytest.raises(ParameterError, match="only 'insufficient data'"):
        _verdict(missing=("x",))
    with pytest.raises(ParameterError, match="decision rule"):
        _verdict(rule="")
    with pytest.raises(ParameterError, match="window"):
        _verdict(window=None)
    ok = _verdict(verdict="insufficient data", effect=None, interval=None, p_value=None, window=None,
                  missing=("no stablecoin supply after 2025-11-27",))
    assert ok.missing and ok.to_dict()["effect"] is None


def test_ledger_json_is_deterministic_and_plain():
    ev = pd.DataFrame({"date": pd.to_datetime(["2023-01-06", "2023-01-13"]), "x": [1.5, np.nan],
                       "q": ["leading", None]})
    v = _verdict(statistics={"n": np.int64(3), "nan": float("nan"), "when": pd.Timestamp("2023-05-01"),
                             "flag": np.bool_(True)},
                 evidence={"path": ev}, caveats=("c1",),
                 data=pd.DataFrame({"symbol": ["A"], "source": ["yahoo"], "first_date": [pd.Timestamp("2020-01-02")],
                                    "last_observed": [pd.NaT]}))
    ledger = Ledger(entries=(v, PendingClaim("R4", "easing")), as_of=pd.Timestamp("2024-12-31"))
    text = ledger.to_json()
    assert text == ledger.to_json()
    doc = json.loads(text)
    assert list(doc) == ["schema", "as_of", "start", "end", "config", "claims"]
    first = doc["claims"][0]
    assert list(first)[:5] == ["id", "title", "status", "verdict", "rule"]
    assert first["statistics"] == {"n": 3, "nan": None, "when": "2023-05-01", "flag": True}
    assert first["evidence"]["path"] == {"columns": ["date", "x", "q"],
                                         "data": [["2023-01-06", 1.5, "leading"], ["2023-01-13", None, None]]}
    assert first["data"] == [{"symbol": "A", "source": "yahoo", "first_date": "2020-01-02", "last_observed": None}]
    assert doc["claims"][1] == {"id": "R4", "title": "easing", "status": NOT_IMPLEMENTED, "verdict": None}
    assert "NaN" not in text
    light = json.loads(ledger.to_json(evidence=False))
    assert light["claims"][0]["evidence"] == {"path": {"rows": 2}}


def test_ledger_frame_lists_every_entry():
    ledger = Ledger(entries=(_verdict(), PendingClaim("R4", "easing")))
    frame = ledger.to_frame()
    assert frame["id"].tolist() == ["R1", "R4"]
    assert frame["status"].tolist() == ["evaluated", NOT_IMPLEMENTED]
    assert frame.loc[0, "verdict"] == "supported" and frame.loc[0, "ci_low"] == 0.1
    assert pd.isna(frame.loc[1, "verdict"])
    assert ledger["R4"].status == NOT_IMPLEMENTED
    with pytest.raises(KeyError, match="R7"):
        ledger["R7"]


# ----------------------------------------------------------------------------- bootstrap
def test_block_bootstrap_matches_arch_conf_int():
    """Independent reference: arch's own percentile interval with the same seed and block length."""
    from arch.bootstrap import CircularBlockBootstrap, StationaryBootstrap

    x = np.random.default_rng(3).standard_t(4, size=400) * 0.02 + 0.001
    for kind, cls in (("stationary", StationaryBootstrap), ("circular", CircularBlockBootstrap)):
        ours = block_bootstrap(x, np.sum, reps=999, seed=42, level=0.9, kind=kind, block_length=6)
        ref = cls(6, x, seed=np.random.default_rng(42)).conf_int(np.sum, reps=999, method="percentile", size=0.9)
        assert_allclose([ours.lo, ours.hi], ref[:, 0], rtol=1e-12)
        assert ours.estimate == pytest.approx(x.sum())
        assert ours.block_length == 6 and ours.n == 400


def test_block_bootstrap_se_of_a_sum_is_sqrt_n_sigma_for_iid_data():
    """Closed form: for i.i.d. rows the bootstrap SE of a sum is sqrt(n) * sd (up to Monte-Carlo error)."""
    x = np.random.default_rng(5).normal(0.0, 0.03, 600)
    res = block_bootstrap(x, np.sum, reps=4000, seed=1, block_length=1)
    assert res.se == pytest.approx(np.sqrt(600) * x.std(), rel=0.05)


def test_block_bootstrap_p_value_agrees_with_the_interval_and_seed_fixes_numbers():
    rng = np.random.default_rng(8)
    for drift in (0.0, 0.002, 0.004, -0.003):
        x = rng.normal(drift, 0.02, 500)
        res = block_bootstrap(x, np.mean, reps=1999, seed=7, level=0.95)
        excludes = res.lo > 0 or res.hi < 0
        assert excludes == (res.p_value < 0.05) or abs(res.p_value - 0.05) < 0.005
        again = block_bootstrap(x, np.mean, reps=1999, seed=7, level=0.95)
        assert (again.lo, again.hi, again.p_value) == (res.lo, res.hi, res.p_value)
    other = block_bootstrap(x, np.mean, reps=1999, seed=8, level=0.95)
    assert other.lo != res.lo


def test_block_bootstrap_rejects_bad_input():
    with pytest.raises(DataError, match="at least 10"):
        block_bootstrap(np.ones(5), np.sum, reps=100, seed=0)
    with pytest.raises(DataError, match="NaN"):
        block_bootstrap(np.r_[np.ones(20), np.nan], np.sum, reps=100, seed=0)
    with pytest.raises(ParameterError, match="bootstrap"):
        block_bootstrap(np.ones(20), np.sum, reps=100, seed=0, kind="iid")


def test_auto_block_length_grows_with_autocorrelation():
    rng = np.random.default_rng(2)
    e = rng.normal(size=2000)
    ar = np.empty_like(e)
    ar[0] = e[0]
    for t in range(1, len(e)):
        ar[t] = 0.8 * ar[t - 1] + e[t]
    short = block_bootstrap(e, np.mean, reps=100, seed=0).block_length
    long = block_bootstrap(ar, np.mean, reps=100, seed=0).block_length
    assert long > 3 * short


# ----------------------------------------------------------------------------- decisions
@pytest.mark.parametrize(
    ("lo", "hi", "supports", "expected"),
    [
        (0.1, 0.5, "positive", "supported"),
        (-0.5, -0.1, "positive", "contradicted"),
        (-0.1, 0.5, "positive", "inconclusive"),
        (0.1, 0.5, "negative", "contradicted"),
        (-0.5, -0.1, "negative", "supported"),
        (0.0, 0.5, "positive", "inconclusive"),
    ],
)
def test_decide_interval(lo, hi, supports, expected):
    assert decide_interval(lo, hi, supports=supports) == expected


def test_decide_p():
    assert decide_p(-0.3, 0.01, 0.05, supports="negative") == "supported"
    assert decide_p(0.3, 0.01, 0.05, supports="negative") == "contradicted"
    assert decide_p(0.3, 0.2, 0.05, supports="negative") == "inconclusive"
    assert decide_p(0.3, math.nan, 0.05) == "inconclusive"
    assert decide_p(0.3, 0.01, 0.05) == "supported"
    with pytest.raises(ParameterError):
        decide_p(0.3, 0.01, 0.05, supports="up")


# ----------------------------------------------------------------------------- registry
def test_registry_lists_the_twelve_claims_in_order():
    assert CLAIM_IDS == tuple(f"R{i}" for i in range(1, 13))
    assert [e.claim_id for e in REGISTRY] == list(CLAIM_IDS)
    # every claim of CLAIMS.md has code now: none is left "not yet implemented"
    assert all(e.implemented for e in REGISTRY), [e.claim_id for e in REGISTRY if not e.implemented]
    config = load_claims_config()
    for e in REGISTRY:
        cid = e.claim_id
        module = claim_module(cid)
        assert module is not None and module.__name__ == e.module, cid
        assert module.ID == cid
        assert callable(module.evaluate) and isinstance(module.RULE, str) and module.__doc__
        # every claim-specific key is shipped (and so documented) in the default configuration
        assert set(module.PARAMS) <= set(config.claims.get(cid, {})), cid


def test_an_entry_without_code_is_pending(monkeypatch):
    """The "not yet implemented" path, through an entry this test registers without a module."""
    registry = cs.register_pending(monkeypatch, "R4")
    assert _registry.REGISTRY is registry and _registry.CLAIM_IDS == CLAIM_IDS  # ids and order unchanged
    e = _registry.entry("R4")
    assert e.module is None and not e.implemented and e.title == REGISTRY[3].title
    assert _registry.claim_module("R4") is None
    assert _registry.claim_module("R5").ID == "R5"  # the others still resolve to their code
    with pytest.raises(KeyError, match="R13"):
        _registry.entry("R13")
