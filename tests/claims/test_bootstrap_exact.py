"""The claims' bootstrap without arch, and the batch statistics: exactly arch's numbers, bit for bit.

``rotation.claims._stats`` draws arch's resampling indices itself (importing arch costs 1-2 s per run)
and the claims evaluate their statistics for many resamples at once. These tests hold both to arch
and to the per-resample statistic with ``==``, not a tolerance: the ledger JSON must not change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rotation.claims._stats import _CHUNK, block_bootstrap, optimal_block_length, resample_indices, sum_rows
from rotation.claims.r5_ai_share import excess_over_threshold, excesses_over_threshold
from rotation.claims.r6_risk_adjusted import sharpe_difference, sharpe_differences

arch_bootstrap = pytest.importorskip("arch.bootstrap")


def _ar1(n: int, phi: float, seed: int, k: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.standard_t(4, size=(n, k)) * 0.01
    x = np.empty_like(e)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x[:, 0] if k == 1 else x


@pytest.mark.parametrize("kind", ["stationary", "circular"])
@pytest.mark.parametrize(("n", "b", "seed"), [(10, 1, 0), (37, 5, 1), (250, 9, 20251121), (701, 64, 7)])
def test_indices_are_archs(kind, n, b, seed):
    cls = arch_bootstrap.StationaryBootstrap if kind == "stationary" else arch_bootstrap.CircularBlockBootstrap
    reps = _CHUNK + 45  # more than one chunk
    ref = cls(b, np.arange(n), seed=np.random.default_rng(seed))
    expected = np.stack([ref.update_indices() for _ in range(reps)])
    ours = np.concatenate(list(resample_indices(n, b, kind, np.random.default_rng(seed), reps)))
    assert ours.dtype == np.int64 and ours.shape == (reps, n)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("shape", [(40,), (300,), (1200,), (500, 2), (90, 3)])
@pytest.mark.parametrize("phi", [0.0, 0.6, 0.95])
def test_optimal_block_length_is_archs(shape, phi):
    x = _ar1(shape[0], phi, seed=len(shape) * 100 + shape[0], k=shape[1] if len(shape) == 2 else 1)
    ref = arch_bootstrap.optimal_block_length(x).to_numpy()
    assert np.array_equal(optimal_block_length(x), ref)


@pytest.mark.parametrize("kind", ["stationary", "circular"])
def test_distribution_is_archs_apply(kind):
    """The whole bootstrap, block length included, against arch's own ``apply``."""
    x = _ar1(400, 0.4, seed=3, k=2)
    res = block_bootstrap(x, sharpe_difference, reps=700, seed=11, kind=kind, block_length="auto")
    cls = arch_bootstrap.StationaryBootstrap if kind == "stationary" else arch_bootstrap.CircularBlockBootstrap
    ref = cls(res.block_length, x, seed=np.random.default_rng(11)).apply(
        lambda rows: np.atleast_1d(sharpe_difference(rows)), 700)[:, 0]
    np.testing.assert_array_equal(res.distribution, ref)
    batched = block_bootstrap(x, sharpe_difference, reps=700, seed=11, kind=kind, batch=sharpe_differences)
    np.testing.assert_array_equal(batched.distribution, ref)
    assert (batched.lo, batched.hi, batched.p_value, batched.se) == (res.lo, res.hi, res.p_value, res.se)


def _resamples(x: np.ndarray, seed: int, reps: int = 60) -> np.ndarray:
    idx = np.concatenate(list(resample_indices(len(x), 7, "stationary", np.random.default_rng(seed), reps)))
    return x[idx]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(10, 400), seed=st.integers(0, 2**31 - 1), order=st.sampled_from("CF"))
def test_batch_statistics_equal_the_per_resample_ones(n, seed, order):
    rng = np.random.default_rng(seed)
    # daily-return-like rows with a fat tail; both memory orders (a DataFrame's to_numpy is column-major)
    x = np.asarray(np.clip(rng.standard_t(3, size=(n, 2)) * 0.02 + 0.0004, -0.45, 0.45), order=order)
    s = _resamples(x, seed)
    assert np.array_equal(sharpe_differences(s), [sharpe_difference(r) for r in s])
    for linking in ("grap", "carino", "menchero"):
        assert np.array_equal(excesses_over_threshold(s, 0.5, linking),
                              [excess_over_threshold(r, 0.5, linking) for r in s])
    d = np.ascontiguousarray(x[:, 0] - x[:, 1])
    sd = _resamples(d, seed)
    assert np.array_equal(sum_rows(sd), [np.sum(r) for r in sd])
    assert np.array_equal(sum_rows(sd), [float(r.sum()) for r in sd])


def test_batch_excess_falls_back_where_linking_fails():
    """A resample with a period return at or below -100% raises as the per-resample statistic does."""
    from rotation.errors import DataError

    s = np.full((3, 12, 2), 0.01)
    s[1, 4] = [-0.7, -0.5]
    with pytest.raises(DataError, match="-100%"):
        excess_over_threshold(s[1], 0.5, "grap")
    with pytest.raises(DataError, match="-100%"):
        excesses_over_threshold(s, 0.5, "grap")


def test_the_same_seed_gives_the_same_numbers_with_and_without_batch():
    d = _ar1(600, 0.3, seed=5)
    a = block_bootstrap(d, np.sum, reps=2000, seed=20251121)
    b = block_bootstrap(d, np.sum, reps=2000, seed=20251121, batch=sum_rows)
    np.testing.assert_array_equal(a.distribution, b.distribution)
    c = block_bootstrap(d, np.sum, reps=2000, seed=20251122, batch=sum_rows)
    assert not np.array_equal(a.distribution, c.distribution)


# ----------------------------------------------------------------------------- shared per-run lookups
@pytest.mark.parametrize("as_of", [None, "2022-06-30"])
def test_first_dates_are_each_columns_first_valid_index(tmp_path, as_of):
    """The context's memoised first dates (used by every verdict's provenance and caveats) are those of
    the as-of panel, column by column (a late listing's first date is never one after the as-of date)."""
    import claims_synthetic as cs

    from rotation.claims import ClaimContext, load_claims_config
    from rotation.store import Store
    from rotation.universe import load_universe

    store, uni, cfg = cs.build(tmp_path, "ai_wins")
    with Store(store, read_only=True) as db:
        ctx = ClaimContext(db, load_universe(uni), load_claims_config(cfg), as_of=as_of)
        prices = ctx.daily.prices
        expected = {s: prices[s].first_valid_index() for s in prices.columns}
        assert ctx.first_dates == expected
        assert ctx.first_dates is ctx.first_dates  # once per run
        if as_of is not None:
            assert all(d is None or d <= pd.Timestamp(as_of) for d in ctx.first_dates.values())
        prov = ctx.provenance(list(prices.columns))
        assert list(prov["first_date"]) == [expected[s] for s in prov["symbol"]]
