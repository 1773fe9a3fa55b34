"""``rotation stress`` end to end: a synthetic store (numbers checked against the API), errors, real data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rotation.cli._stress import parse_shocks, register
from rotation.errors import ParameterError
from rotation.store import Store
from synthetic_store import basket_toml, by_source, instrument_toml, prices, walk, write_store

runner = CliRunner()

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2", "M1"),
    instrument_toml("C1", asset_class="crypto", provider="coingecko"),
    basket_toml("ai", ["A1", "A2"], role="ai"), basket_toml("crypto", ["C1"], weighting="cap", role="crypto"),
    basket_toml("miners", ["M1"], role="crypto"),
])


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer in multi-command mode ("stress" as a word)
        """Nothing."""

    return app


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Six years of prices driven by one AI factor (miners load 1.5 on it, crypto 0.5)."""
    root = tmp_path_factory.mktemp("cli-stress")
    uni = root / "universe.toml"
    uni.write_text(UNIVERSE)
    rng = np.random.default_rng(4)
    days = pd.date_range("2017-01-01", "2022-12-31", freq="D")
    sessions = pd.bdate_range(days[0], days[-1])
    f = pd.Series(rng.normal(0.0004, 0.018, len(days)), index=days)
    frames = []
    for sym, idx, load, vol in (("A1", sessions, 1.0, 0.01), ("A2", sessions, 1.0, 0.012),
                                ("M1", sessions, 1.5, 0.03), ("C1", days, 0.5, 0.03)):
        r = load * f.reindex(idx).to_numpy() + rng.normal(0, vol, len(idx))
        frames.append(prices(sym, idx, walk(50, r)))
    path = write_store(root / "store.duckdb", by_source(frames, "yahoo", coingecko=["C1"]))
    return path, uni


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wide enough not to wrap, whatever terminal (or xdist worker) runs the tests."""
    from rotation.cli import _common

    for con in (_common.console, _common.err_console):
        monkeypatch.setattr(con, "_width", 250)


def _rows(output: str, name: str) -> list[str]:
    return [ln for ln in output.splitlines() if re.search(rf"[│|]\s*{re.escape(name)}\s*[│|]", ln)]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("│").split("│")]


def test_parse_shocks():
    assert parse_shocks(None) is None and parse_shocks([]) is None
    assert parse_shocks(["ai=-0.10,-15%", "b=-0.2", "ai=-0.1"]) == {"ai": (-0.10, -0.15), "b": (-0.2,)}
    assert parse_shocks(["ai=-10%/-20%"]) == {"ai": (-0.10, -0.20)}
    for bad in ("ai", "=-0.1", "ai=", "ai=-x"):
        with pytest.raises(ParameterError, match="--shock"):
            parse_shocks([bad])


def test_stress_command_matches_the_api(app, synthetic):
    path, uni = synthetic
    res = runner.invoke(app, ["stress", "--store", str(path), "--universe", str(uni)])
    assert res.exit_code == 0, res.output
    out = res.output
    for text in ("Drawdowns of at least 10%, 15%, 20% (daily levels", "Deepest episodes per basket",
                 "Scenario: ai -10%", "Scenario: ai -15%", "downside beta", "tail beta", "analogues"):
        assert text in out, text

    from rotation.analytics.stress import stress
    from rotation.panel import build_panel
    from rotation.universe import load_universe

    u = load_universe(uni)
    with Store(path, read_only=True) as store:
        panel = build_panel(store, u, baskets=["ai", "crypto", "miners"])
    api = stress(panel)
    s = api.drawdowns.summary.set_index(["symbol", "threshold"])
    row = _cells(_rows(out, "miners")[0])  # first row of a basket: the 10% threshold
    assert row[1] == "10%" and int(row[2]) == s.loc[("miners", 0.10), "episodes"]
    assert row[3] == f"{s.loc[('miners', 0.10), 'per_year']:.2f}"
    # scenario: the miners' beta response and analogue median at -15% as the API computes them
    sc = api.scenarios["ai"].responses.query("shock == -0.15").set_index(["series", "method"])
    beta = sc.loc[("miners", "beta")]
    analog = sc.loc[("miners", "analogues")]
    lines = out[out.index("Scenario: ai -15%"):]
    m = _cells(_rows(lines, "miners")[0])
    assert m[1].startswith(f"{beta['response']:+.1%} [{beta['low']:+.1%}, {beta['high']:+.1%}]")
    assert m[4].startswith(f"{analog['response']:+.1%}") and int(m[5]) == analog["n"]
    assert beta["response"] < 0  # miners load 1.5 on the AI factor


def test_stress_command_options(app, synthetic):
    path, uni = synthetic
    res = runner.invoke(app, ["stress", "--store", str(path), "--universe", str(uni), "--shock", "miners=-20%",
                              "--baskets", "ai", "--thresholds", "25%", "--windows", "1,2", "--band", "0.05",
                              "--start", "2019-01-01", "--end", "2021-12-31", "--episodes", "0"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "Drawdowns of at least 25%" in out and "2019-01-02 .. 2021-12-31" in out
    assert "Scenario: miners -20%" in out and "windows of 1,2 weeks" in out and "+/- 5.0%" in out
    assert "Deepest episodes" not in out and "Scenario: ai" not in out
    assert _rows(out, "ai") and not _rows(out, "crypto")


def test_stress_command_errors(app, synthetic, tmp_path):
    path, uni = synthetic
    base = ["stress", "--store", str(path), "--universe", str(uni)]
    for args, message in (
        (["--shock", "ai"], "BASKET=RETURN"),
        (["--shock", "nope=-0.1"], "unknown basket 'nope'"),
        (["--shock", "ai=0"], "non-zero"),
        (["--baskets", "nope"], "unknown basket 'nope'"),
        (["--start", "2021-13-01"], "YYYY-MM-DD"),
        (["--windows", "a,b"], "whole numbers"),
        (["--thresholds", "150%"], "thresholds"),
        (["--weighting", "size"], "--weighting"),
        (["--episodes", "-1"], "--episodes"),
    ):
        res = runner.invoke(app, base + args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output, (args, res.output)
    res = runner.invoke(app, ["stress", "--store", str(tmp_path / "none.duckdb"), "--universe", str(uni)])
    assert res.exit_code == 3 and "nothing to analyse" in res.output


@pytest.mark.shared_data
def test_stress_command_real_data(app, real_store):
    res = runner.invoke(app, ["stress", "--store", str(real_store.path), "--shock", "ai_compute=-15%",
                              "--start", "2015-01-01"])
    assert res.exit_code == 0, res.output
    out = res.output
    # ten-percent AI-compute drawdowns since 2015: more than three
    ai = _cells(_rows(out, "ai_compute")[0])
    assert ai[1] == "10%" and int(ai[2]) > 3
    # the deepest crypto-majors episodes include the 2022 fall (trough in 2022, deeper than -60%)
    eps = out[out.index("Deepest episodes"):out.index("Scenario:")]
    fall = [_cells(r) for r in _rows(eps, "crypto_majors") if _cells(r)[3].startswith("2022")]
    assert fall and float(fall[0][5].rstrip("%")) < -60
    # a -15% AI-compute shock: miners' analogue median is negative with a finite band
    sc = out[out.index("Scenario: ai_compute -15%"):]
    miners = _cells(_rows(sc, "miners_ai_hosting")[0])
    med = re.match(r"([+-]\d+\.\d)% \[([+-]\d+\.\d)%, ([+-]\d+\.\d)%\]", miners[4])
    assert med and float(med.group(1)) < 0 and float(med.group(2)) < float(med.group(3))
