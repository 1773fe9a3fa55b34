"""``rotation regimes`` end to end: a synthetic store, the API behind the numbers, errors, and the real data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rotation.cli import _regimes
from rotation.store import Store
from synthetic_store import basket_toml, by_source, instrument_toml, prices, walk, write_store

runner = CliRunner()

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2"), instrument_toml("C1", asset_class="crypto", provider="coingecko"),
    instrument_toml("SPY", asset_class="etf"),
    basket_toml("ai", ["A1", "A2"], role="ai"), basket_toml("crypto", ["C1"], weighting="cap", role="crypto"),
])


def _app() -> typer.Typer:
    app = typer.Typer()
    _regimes.register(app)

    @app.callback()
    def _root() -> None:  # a group, so the command is invoked by name as in `rotation regimes`
        """test app"""

    return app


APP = _app()


def run(*args: str):
    return runner.invoke(APP, ["regimes", *args])


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from rotation.cli import _common

    for con in (_common.console, _common.err_console):
        monkeypatch.setattr(con, "_width", 220)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Three years of prices; C1 switches from a calm to a turbulent regime in mid-2021."""
    root = tmp_path_factory.mktemp("cli-regimes")
    uni = root / "universe.toml"
    uni.write_text(UNIVERSE)
    rng = np.random.default_rng(9)
    days = pd.date_range("2019-01-01", "2022-06-30", freq="D")
    sessions = pd.bdate_range(days[0], days[-1])
    frames = []
    for sym, idx in (("A1", sessions), ("A2", sessions), ("SPY", sessions), ("C1", days)):
        vol = {"A1": 0.02, "A2": 0.025, "SPY": 0.01}.get(sym)
        if vol is None:  # a crypto asset whose volatility triples on 2021-06-01
            vol = np.where(idx < pd.Timestamp("2021-06-01"), 0.02, 0.06)
        px = walk(100, rng.normal(0.0003, vol, len(idx)))
        frames.append(prices(sym, idx, px, shares=19e6 if sym == "C1" else None))
    path = write_store(root / "store.duckdb", by_source(frames, "yahoo", coingecko=["C1"]))
    return path, uni


def _row(output: str, first: str) -> str:
    lines = [ln for ln in output.splitlines() if re.match(rf"^[│|]\s*{re.escape(first)}\s*[│|]", ln)]
    assert lines, f"no table row starting {first!r} in:\n{output}"
    return lines[0]


def test_default_rotation_flow_matches_api(synthetic):
    path, uni = synthetic
    res = run("--store", str(path), "--universe", str(uni))
    assert res.exit_code == 0, res.output
    for text in ("ai - crypto: rotation flow", "Current regime", "2-state Markov-switching (statsmodels)",
                 "Transition probabilities", "Recent regime spells", "Change points in mean and variance",
                 "first detected (real time)", "Smoothed probabilities use the whole sample"):
        assert text in res.output, text
    # the printed state means are those of the API on the same weekly flow
    from rotation.analytics.regimes import regimes
    from rotation.panel import build_panel
    from rotation.universe import load_universe

    u = load_universe(uni)
    with Store(path, read_only=True) as store:
        panel = build_panel(store, u, baskets=["ai", "crypto"], frequency="W")
    la, lb = panel.basket_levels("ai", "equal"), panel.basket_levels("crypto", "equal")
    flow = (np.log(la).diff() - np.log(lb).diff()).dropna().rename("ai - crypto")
    api = regimes(flow, 2, periods_per_year=52).to_frame()
    for j in (0, 1):
        row = _row(res.output, str(j))
        assert f"{api.loc[j, 'mean']:+.3%}" in row
        assert f"{api.loc[j, 'expected_duration']:.1f}" in row


def test_series_with_break_tests(synthetic):
    path, uni = synthetic
    res = run("--store", str(path), "--universe", str(uni), "--series", "C1", "--break-date", "2021-06-01",
              "--window", "52", "--order-by", "variance")
    assert res.exit_code == 0, res.output
    assert "C1: simple returns of instrument C1" in res.output
    assert "Break tests at 2021-06-01 (52 weeks each side" in res.output
    vol = _row(res.output, "volatility of C1 (ann.)")
    before, after = (float(x) for x in re.findall(r"(\d+)%", vol)[:2])
    assert after > 2 * before  # the simulated tripling shows
    assert "correlation C1 / SPY" in res.output  # SPY is the default partner
    assert "mean of C1 (Chow)" in res.output


def test_basket_vs_and_options(synthetic):
    path, uni = synthetic
    res = run("--store", str(path), "--universe", str(uni), "--basket", "crypto", "--vs", "SPY",
              "--model", "hmm", "--no-realtime", "--weighting", "cap", "--break-date", "2021-06-01",
              "--penalty", "25", "--recent", "2")
    assert res.exit_code == 0, res.output
    assert "crypto - SPY: rotation flow" in res.output and "hidden Markov (hmmlearn)" in res.output
    assert "penalty fixed = 25.0" in res.output
    assert "first detected (real time)" in res.output  # column present, filled with "-"
    assert "correlation crypto / SPY" in res.output
    res = run("--store", str(path), "--universe", str(uni), "--basket", "ai", "--frequency", "D", "--k", "2",
              "--start", "2021-01-01", "--no-realtime")
    assert res.exit_code == 0, res.output
    assert "ai: simple returns of basket ai" in res.output and "sessions" in res.output
    assert "2021-01-0" in res.output
    # 51 weeks: enough for the regime model (50), too few for the real-time detection (52): a note, not a failure
    res = run("--store", str(path), "--universe", str(uni), "--series", "SPY", "--start", "2021-07-09")
    assert res.exit_code == 0, res.output
    assert "real-time change points skipped" in res.output


def test_errors(synthetic, tmp_path):
    path, uni = synthetic
    base = ("--store", str(path), "--universe", str(uni))
    for args, code, text in (
        (("--series", "C1", "--basket", "ai"), 2, "--series"),
        (("--vs", "crypto"), 2, "needs --basket"),
        (("--k", "1"), 2, "k"),
        (("--basket", "nope"), 2, "nope"),
        (("--frequency", "M"), 2, "--frequency"),
        (("--penalty", "high"), 2, "--penalty"),
        (("--model", "garch"), 2, "model"),
        (("--start", "2021-02-30"), 2, "--start"),
        (("--break-date", "1990-01-01", "--no-realtime"), 1, "0 rows before"),
        (("--start", "2022-05-01"), 1, "at least 50"),
    ):
        res = run(*base, *args)
        assert res.exit_code == code, (args, res.output)
        assert text in res.output, (args, res.output)
        assert "Traceback" not in res.output
    res = run("--store", str(tmp_path / "missing.duckdb"), "--universe", str(uni))
    assert res.exit_code == 3 and "rotation fetch" in res.output


@pytest.mark.shared_data
def test_real_store_btc_around_spot_etf_launch(real_store):
    res = run("--store", str(real_store.path), "--series", "BTC", "--break-date", "2024-01-11")
    assert res.exit_code == 0, res.output
    for text in ("BTC: simple returns of instrument BTC", "Current regime", "volatility of BTC (ann.)",
                 "correlation BTC / SPY", "Break tests at 2024-01-11 (52 weeks each side"):
        assert text in res.output, text
    # the 2022 break in BTC's volatility is among the change points, found in real time within the year
    row = _row(res.output, "2022-07-29")
    assert re.search(r"\d+ weeks", row)
