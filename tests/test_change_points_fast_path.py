"""``change_points`` (Pelt, ``jump=1``) runs the module's vectorised recursion instead of ruptures' Pelt loop.

The result must be what ruptures' Pelt gives with the same cost on the same standardised series:
the same break rows, segments and penalty (the report and claim R11 draw them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import ruptures as rpt
from hypothesis import given, settings
from hypothesis import strategies as st

from rotation.analytics import breaks as B


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(24, 260), model=st.sampled_from(["normal", "l2"]),
       min_size=st.integers(2, 12), shift=st.floats(0.0, 3.0))
def test_fast_path_gives_ruptures_breaks(seed, n, model, min_size, shift):
    rng = np.random.default_rng(seed)
    y = rng.standard_t(4, n) * 0.02
    y[n // 2:] += shift * 0.02  # sometimes a real break, sometimes none
    s = pd.Series(y, pd.date_range("2016-01-01", periods=n, freq="W-FRI"), name="x")
    if n < 2 * min_size:
        return
    res = B.change_points(s, model=model, min_size=min_size)
    z, _, _ = B._standardise(y, model, "x")
    ref = rpt.Pelt(custom_cost=B._COSTS[model][0](), min_size=min_size, jump=1).fit(z).predict(pen=res.penalty)
    assert list(res.break_rows) == ref[:-1]
    assert res.segments["n"].sum() == n
