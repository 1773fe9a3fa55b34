"""``rotation rrg | flows | macro`` end to end: a synthetic store, errors, and the real data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rotation.cli import app
from rotation.store import Store
from synthetic_store import basket_toml, by_source, instrument_toml, macro_toml, prices
from synthetic_store import series, stablecoin, walk, write_store

runner = CliRunner()

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2"), instrument_toml("C1", asset_class="crypto", provider="coingecko"),
    instrument_toml("S1", asset_class="stablecoin", provider="coingecko"), instrument_toml("SPY", asset_class="etf"),
    basket_toml("ai", ["A1", "A2"], role="ai"),
    basket_toml("crypto", ["C1"], weighting="cap", role="crypto"),
    basket_toml("stablecoins", ["S1"], weighting="cap", role="other"),
    *(macro_toml(s) for s in ("DGS2", "DFII10", "DTWEXBGS", "WALCL", "WTREGEN", "RRPONTSYD")),
])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store with ~4 years of random-walk prices, caps, volumes, supply and macro series."""
    root = tmp_path_factory.mktemp("cli-analytics")
    uni = root / "universe.toml"
    uni.write_text(UNIVERSE)
    rng = np.random.default_rng(42)
    days = pd.date_range("2019-01-01", "2022-12-31", freq="D")
    sessions = pd.bdate_range(days[0], days[-1])
    frames = []
    for sym, idx, vol in (("A1", sessions, 0.02), ("A2", sessions, 0.025), ("SPY", sessions, 0.01), ("C1", days, 0.04)):
        px = walk(100, rng.normal(0.0003, vol, len(idx)))
        frames.append(prices(sym, idx, px, shares=19e6 if sym == "C1" else None,
                             volume_usd=rng.lognormal(20, 0.3, len(idx))))
    volume = rng.lognormal(20, 0.3, len(days))  # drawn before the supply (the numbers below depend on the order)
    frames.append(stablecoin("S1", days, walk(5e10, rng.normal(0.0005, 0.002, len(days))), volume_usd=volume))
    macro = []
    for sym, idx, start, step in (
        ("DGS2", sessions, 2.5, 0.03), ("DFII10", sessions, 0.5, 0.02), ("DTWEXBGS", sessions, 110.0, 0.3),
        ("RRPONTSYD", sessions, 500.0, 5.0),
    ):
        macro.append(series(sym, idx, walk(start, rng.normal(0, step, len(idx)), "add")))
    weds = pd.date_range(days[0], days[-1], freq="W-WED")
    macro.append(series("WALCL", weds, walk(4.2e6, rng.normal(0, 2e4, len(weds)), "add")))
    macro.append(series("WTREGEN", weds, walk(400, rng.normal(0, 10, len(weds)), "add")))
    path = write_store(root / "store.duckdb", by_source(frames, "yahoo", coingecko=["C1", "S1"]),
                       macro=pd.concat(macro, ignore_index=True))
    return path, uni


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wide enough not to wrap, whatever terminal (or xdist worker) runs the tests."""
    from rotation.cli import _common

    for con in (_common.console, _common.err_console):
        monkeypatch.setattr(con, "_width", 200)


def run(*args: str) -> object:
    return runner.invoke(app, list(args))


def _row(output: str, name: str) -> str:
    lines = [ln for ln in output.splitlines() if re.search(rf"[│|]\s*{re.escape(name)}\s*[│|]", ln)]
    assert lines, f"no table row for {name!r} in:\n{output}"
    return lines[0]


def test_rrg_matches_api(synthetic):
    path, uni = synthetic
    res = run("rrg", "--store", str(path), "--universe", str(uni), "--symbols", "A1")
    assert res.exit_code == 0, res.output
    assert "Relative rotation vs SPY" in res.output
    # the printed quadrant and RS-Ratio are those of the API on the same weekly panel
    from rotation.analytics.rrg import rrg
    from rotation.panel import build_panel
    from rotation.universe import load_universe

    u = load_universe(uni)
    with Store(path, read_only=True) as store:
        panel = build_panel(store, u, symbols=["SPY", "A1"], baskets=["ai", "crypto"], frequency="W")
    levels = pd.DataFrame({b: panel.basket_levels(b, "equal") for b in ("ai", "crypto")}).assign(A1=panel.prices["A1"])
    latest = rrg(levels, panel.prices["SPY"].rename("SPY")).to_frame()
    for name in ("ai", "crypto", "A1"):
        row = _row(res.output, name)
        assert latest.loc[name, "quadrant"] in row
        assert f"{latest.loc[name, 'rs_ratio']:.2f}" in row


def test_rrg_basket_benchmark_and_options(synthetic):
    path, uni = synthetic
    res = run("rrg", "--store", str(path), "--universe", str(uni), "--benchmark", "crypto", "--baskets", "ai",
              "--ratio-window", "8", "--momentum-window", "6", "--tail", "3", "--start", "2021-01-01")
    assert res.exit_code == 0, res.output
    assert "vs crypto" in res.output and "RS-Ratio 8w" in res.output
    assert len(_row(res.output, "ai").split("│")[-2].split()) == 3  # a 3-point tail


def test_flows_command(synthetic):
    path, uni = synthetic
    res = run("flows", "--store", str(path), "--universe", str(uni), "--window", "8", "--smooth", "2")
    assert res.exit_code == 0, res.output
    for title in ("Rotation index: ai minus crypto", "Stablecoin net issuance", "Share of dollar volume"):
        assert title in res.output
    assert "drift, annualised" in res.output
    # ai has no market caps in this store: it is named, not silently dropped
    assert "no market caps stored for ai" in res.output
    total = _row(res.output, "total")
    assert re.search(r"\d", total)


def test_macro_command(synthetic):
    path, uni = synthetic
    res = run("macro", "--store", str(path), "--universe", str(uni), "--rolling-window", "52")
    assert res.exit_code == 0, res.output
    for text in ("Net liquidity", "net liquidity (per 1.0)", "Latest rolling betas (52-week window)",
                 "Weekly returns by DGS2 regime", "rising - falling"):
        assert text in res.output, text
    row = _row(res.output, "ai")
    assert re.search(r"[+-]\d\.\d{3} \([+-]\d+\.\d\)", row)  # beta (t)
    res2 = run("macro", "--store", str(path), "--universe", str(uni), "--no-liquidity")
    assert res2.exit_code == 0, res2.output
    assert "net liquidity (per 1.0)" not in res2.output


def test_errors(synthetic, tmp_path):
    path, uni = synthetic
    res = run("rrg", "--store", str(path), "--universe", str(uni), "--baskets", "nope")
    assert res.exit_code == 2 and "unknown basket 'nope'" in res.output
    res = run("flows", "--store", str(path), "--universe", str(uni), "--start", "2021-13-01")
    assert res.exit_code == 2 and "--start" in res.output
    res = run("rrg", "--store", str(path), "--universe", str(uni), "--benchmark", "XXX")
    assert res.exit_code == 2 and "XXX" in res.output
    res = run("macro", "--store", str(path), "--universe", str(uni), "--weighting", "heavy")
    assert res.exit_code == 2 and "--weighting" in res.output
    res = run("rrg", "--store", str(tmp_path / "missing.duckdb"), "--universe", str(uni))
    assert res.exit_code == 3 and "rotation fetch" in res.output
    res = run("rrg", "--store", str(path), "--universe", str(uni), "--start", "2022-10-01")
    assert res.exit_code == 0, res.output  # history before --start warms the windows up
    assert "Traceback" not in res.output


@pytest.mark.shared_data
def test_real_store_commands(real_store):
    path = str(real_store.path)
    res = run("rrg", "--store", path)
    assert res.exit_code == 0, res.output
    assert "ai_compute" in res.output and "crypto_majors" in res.output
    res = run("flows", "--store", path)
    assert res.exit_code == 0, res.output
    assert "Rotation index: ai_compute minus crypto_majors" in res.output
    assert "USDT" in res.output
    res = run("macro", "--store", path, "--baskets", "ai_compute,crypto_majors")
    assert res.exit_code == 0, res.output
    assert "net_liquidity" in res.output and "crypto_majors" in res.output
