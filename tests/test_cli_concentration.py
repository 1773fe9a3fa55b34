"""``rotation concentration | contribution`` end to end: a synthetic store, errors, and the real data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rotation.cli._concentration import register
from rotation.store import Store
from synthetic_store import basket_toml, instrument_toml, prices, spells, walk, write_store

runner = CliRunner()

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Local app: the lead wires the commands into ``rotation``."""


register(app)

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2", "A3", "A4", "B1"),
    basket_toml("ai", ["A1", "A2", "A3", "A4"], weighting="cap", role="ai"),
    basket_toml("other", ["B1"], role="other"),
])

SNAPSHOT = pd.Timestamp("2023-06-30")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Five years of prices, one market-cap snapshot and membership spells of an index ``TEST``.

    On 2021-12-31 the members are A1 A2 A3 A4 B1 B2; B2 (removed 2022-03-01) has no data (survivorship),
    A4 has no market cap, and B3 (joined 2022-06-01) is loaded but was not a member then.
    """
    root = tmp_path_factory.mktemp("cli-concentration")
    uni = root / "universe.toml"
    uni.write_text(UNIVERSE)
    rng = np.random.default_rng(7)
    sessions = pd.bdate_range("2019-01-01", "2023-12-29")
    frames, snap = [], []
    for sym, drift, cap in (("A1", 0.0015, 3e12), ("A2", 0.0005, 1e12), ("A3", 0.0, 2e11), ("A4", 0.0008, None),
                            ("B1", 0.0002, 2e12), ("B3", 0.0004, 5e11)):
        frames.append(prices(sym, sessions, walk(50, rng.normal(drift, 0.015, len(sessions)))))
        if cap is not None:
            snap.append({"symbol": sym, "date": SNAPSHOT, "market_cap": cap})
    always = ("2015-01-02", None)
    members = spells({**dict.fromkeys(["A1", "A2", "A3", "A4", "B1"], always), "B2": ("2015-01-02", "2022-03-01"),
                      "B3": ("2022-06-01", None)})
    obs = {"yahoo": pd.concat(frames, ignore_index=True), "snapshot": pd.DataFrame(snap)}
    path = write_store(root / "store.duckdb", obs, membership={"TEST": members})
    return path, uni


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wide enough not to wrap, whatever terminal (or xdist worker) runs the tests."""
    from rotation.cli import _common

    for con in (_common.console, _common.err_console):
        monkeypatch.setattr(con, "_width", 220)


def run(*args: str):
    return runner.invoke(app, list(args))


def _rows(output: str, *cells: str) -> list[str]:
    pattern = r"".join(rf"[│|]\s*{re.escape(c)}\s*" for c in cells) + r"[│|]"
    lines = [ln for ln in output.splitlines() if re.search(pattern, ln)]
    assert lines, f"no table row {cells!r} in:\n{output}"
    return lines


def test_concentration_matches_api(synthetic):
    path, uni = synthetic
    res = run("concentration", "--store", str(path), "--universe", str(uni), "--k", "1,2")
    assert res.exit_code == 0, res.output
    assert "Market-cap concentration" in res.output and "backcast" in res.output
    from rotation.analytics.concentration import concentration
    from rotation.panel import build_panel
    from rotation.universe import load_universe

    with Store(path, read_only=True) as store:
        panel = build_panel(store, load_universe(uni), baskets=["ai"], cap_method="backcast")
    api = concentration(panel, ["ai"], k=(1, 2), min_coverage=0.5).snapshots((0, 1, 3)).set_index("when")
    for when in ("latest", "1y ago", "3y ago"):
        row = _rows(res.output, "ai", when)[0]
        assert f"{api.loc[when, 'hhi']:.3f}" in row
        assert f"{api.loc[when, 'top_2']:.1%}" in row
        assert "3/4" in row  # A4 has no market cap
    assert "no market cap ever for A4" in res.output
    assert "back-cast" in res.output
    assert re.search(r"ai: HHI \d\.\d{3} -> \d\.\d{3}", res.output)


def test_contribution_matches_api(synthetic):
    path, uni = synthetic
    res = run("contribution", "--store", str(path), "--universe", str(uni), "--index", "TEST",
              "--start", "2021-12-31", "--top", "0")
    assert res.exit_code == 0, res.output
    from rotation.analytics.concentration import contribution
    from rotation.panel import build_panel
    from rotation.universe import load_universe

    with Store(path, read_only=True) as store:
        panel = build_panel(store, load_universe(uni), symbols=["A1", "A2", "A3", "A4", "B1", "B3"],
                            cap_method="backcast")
        spells = store.read_membership("TEST")
    api = contribution(panel, ["A1", "A2", "A3", "A4"], start="2021-12-31", constituents=spells)
    assert api.members == ("A1", "A2", "A3")
    out = res.output
    assert "AI-linked share of the TEST's gains, 2021-12-31 .. 2023-12-29" in out
    assert f"{api.set_return_share:.1%}" in _rows(out, "share of total return (buy and hold)")[0]
    assert f"{api.set_cap_increase_share:.1%}" in _rows(out, "share of market-cap increase")[0]
    assert "~90%" in out and "~75%" in out
    assert "4 of 6 members on 2021-12-31" in out  # B2 without data, A4 without a cap
    assert "1 other member " in out  # --top 0: B1, the only constituent outside the set, is summed
    assert not re.search(r"[│|]\s*B1\s*[│|]", out)
    assert "Survivorship: 1 of the 6 TEST members" in out and "B2" in out
    assert "not TEST members on 2021-12-31" in out and "B3" in out
    assert "A4 (no market cap on 2021-12-31)" in out
    assert "Constant shares" in out


def test_contribution_options(synthetic):
    path, uni = synthetic
    res = run("contribution", "--store", str(path), "--universe", str(uni), "--index", "TEST", "--start",
              "2021-12-31", "--end", "2023-06-30", "--members", "A1", "--add", "B1", "--linking", "grap",
              "--set-name", "mine")
    assert res.exit_code == 0, res.output
    assert "mine share of the TEST's gains, 2021-12-31 .. 2023-06-30" in res.output
    assert "linked, grap" in res.output
    assert "2: A1, B1" in res.output


def test_errors(synthetic, tmp_path):
    path, uni = synthetic
    common = ("--store", str(path), "--universe", str(uni))
    res = run("concentration", *common, "-b", "nope")
    assert res.exit_code == 2 and "unknown basket" in res.output
    res = run("concentration", *common, "--k", "0")
    assert res.exit_code == 2 and "--k" in res.output
    res = run("concentration", *common, "--cap-method", "guess")
    assert res.exit_code == 2 and "--cap-method" in res.output
    res = run("contribution", *common, "--index", "NOPE")
    assert res.exit_code == 1 and "no membership of index NOPE" in res.output
    res = run("contribution", *common, "--index", "TEST", "--linking", "sum")
    assert res.exit_code == 2 and "--linking" in res.output
    res = run("contribution", *common, "--index", "TEST", "--start", "2021-12-31", "--end", "2021-06-30")
    assert res.exit_code == 2 and "not after start" in res.output
    res = run("contribution", *common, "--index", "TEST", "--start", "31/12/2021")
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output
    res = run("contribution", *common, "--index", "TEST", "--start", "2021-12-31", "--members", "ZZZ")
    assert res.exit_code == 1 and "ZZZ (no data)" in res.output
    res = run("concentration", "--store", str(tmp_path / "none.duckdb"), "--universe", str(uni))
    assert res.exit_code == 3 and "no store" in res.output


@pytest.mark.shared_data
def test_real_store_commands(real_store):
    store = str(real_store.path)
    res = run("concentration", "--store", store, "-b", "ai_compute")
    assert res.exit_code == 0, res.output
    for when in ("latest", "1y ago", "3y ago"):
        row = _rows(res.output, "ai_compute", when)[0]
        assert "NVDA" in row and "5/8" in row
    assert "TSM, ASML, ARM" in res.output
    res = run("contribution", "--store", store)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "AI-linked share of the SP500's gains, 2022-12-30 .. 2026-07-31" in out
    share = float(re.search(r"share of market-cap increase\s*[│|]\s*([\d.]+)%", out).group(1))
    assert 40.0 < share < 100.0
    for needle in ("Survivorship", "Constant shares", "back-cast", "GOOG left out", "NVDA", "~90%"):
        assert needle in out, needle
