"""``rotation events`` end to end: a synthetic store (numbers equal the API's), errors, and the real data."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rotation.cli._events import parse_windows, register
from rotation.errors import ParameterError
from rotation.store import Store
from synthetic_store import basket_toml, by_source, instrument_toml, prices, walk, write_store

runner = CliRunner()

UNIVERSE = "\n".join([
    instrument_toml("A1", "A2"), instrument_toml("C1", "C2", asset_class="crypto", provider="coingecko"),
    instrument_toml("SPY", asset_class="etf"),
    basket_toml("ai", ["A1", "A2"], role="ai"), basket_toml("crypto", ["C1", "C2"], role="crypto"),
])

EVENTS = """
[[event]]
date = 2021-03-17
label = "cut one"
kind = "fomc_cut"
affects = "all"

[[event]]
date = 2021-09-22
label = "cut two"
kind = "fomc_cut"
affects = "all"

[[event]]
date = 2022-03-16
label = "hike"
kind = "fomc_hike"
affects = "all"

[[event]]
id = "a1-deal"
date = 2021-06-05
label = "A1 signs a deal (a Saturday)"
kind = "deal"
affects = ["A1"]
"""


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A store with ~4 years of one-factor prices for two equities, two coins and SPY; a universe; events."""
    root = tmp_path_factory.mktemp("cli-events")
    uni = root / "universe.toml"
    uni.write_text(UNIVERSE)
    events = root / "events.toml"
    events.write_text(textwrap.dedent(EVENTS))
    rng = np.random.default_rng(7)
    days = pd.date_range("2019-01-01", "2022-12-31", freq="D")
    sessions = pd.bdate_range(days[0], days[-1])
    market = rng.normal(3e-4, 0.01, len(days))
    frames = []
    for sym, idx, beta, vol in (("A1", sessions, 1.4, 0.02), ("A2", sessions, 1.1, 0.018), ("SPY", sessions, 1.0, 0.0),
                                ("C1", days, 1.8, 0.04), ("C2", days, 2.2, 0.05)):
        pos = days.get_indexer(idx)
        r = beta * market[pos] + rng.normal(0, vol, len(idx)) if vol else market[pos]
        frames.append(prices(sym, idx, walk(100, r)))
    path = write_store(root / "store.duckdb", by_source(frames, "yahoo", coingecko=["C1", "C2"]))
    return path, uni, events


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from rotation.cli import _common

    for con in (_common.console, _common.err_console):
        monkeypatch.setattr(con, "_width", 220)


def run(*args: str):
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps "events" a subcommand, as in the real app
        """test app"""

    return runner.invoke(app, list(args))


def rows_of(output: str, name: str) -> list[str]:
    return [ln for ln in output.splitlines() if re.search(rf"│\s*{re.escape(name)}\s*│", ln)]


def api_summary(path: Path, uni: Path, events: Path, **kw):
    from rotation.analytics.events import event_study
    from rotation.events import load_events
    from rotation.panel import build_panel
    from rotation.universe import load_universe

    u = load_universe(uni)
    with Store(path, read_only=True) as store:
        panel = build_panel(store, u, symbols=["SPY"], baskets=["ai", "crypto"])
    data = pd.DataFrame({b: panel.basket_returns(b, "equal") for b in ("ai", "crypto")})
    return event_study(data, load_events(events), market=panel.returns["SPY"].rename("SPY"), **kw)


def test_basket_level_numbers_equal_the_api(synthetic) -> None:
    path, uni, events = synthetic
    res = run("events", "--store", str(path), "--universe", str(uni), "--events", str(events))
    assert res.exit_code == 0, res.output
    assert "fomc_cut (2 events): CARs, market model vs SPY" in res.output
    assert "fomc_hike (1 event)" in res.output
    assert "Relative CAR (A minus B): crypto - ai" in res.output
    api = api_summary(path, uni, events, relative=[("crypto", "ai")]).summary
    cut = api[(api["kind"] == "fomc_cut") & (api["group"] == "ai") & (api["window"] == "[0,+5]")].iloc[0]
    printed = [ln for ln in res.output.splitlines() if "[0,+5]" in ln]
    expect = f"{cut['mean_car']:+.2%}"
    assert any(expect in ln and f"{cut['p_bmp']:.3f}" in ln and f"{cut['p_kp']:.3f}" in ln for ln in printed), \
        (expect, printed)
    # the instrument-only deal is pointed to --level members
    assert "name only instruments" in res.output and "a1-deal" in res.output


def test_members_level_studies_the_deal(synthetic) -> None:
    path, uni, events = synthetic
    res = run("events", "--store", str(path), "--universe", str(uni), "--events", str(events),
              "--level", "members", "--kind", "deal,fomc_cut", "--windows", "0:1,0:5", "--by", "kind")
    assert res.exit_code == 0, res.output
    assert "deal (1 event)" in res.output
    deal_table = res.output.split("deal (1 event)")[1]
    ai = rows_of(deal_table, "ai")
    assert ai and "│ 1 │" in ai[0]                      # one CAR: A1 at the deal
    assert "[0,+1]" in deal_table and "[0,+60]" not in deal_table
    assert "Relative CAR (A minus B): crypto - ai" in res.output  # basket-level relative CAR still shown


def test_list_and_event_by_event(synthetic) -> None:
    path, uni, events = synthetic
    res = run("events", "--store", str(path), "--universe", str(uni), "--events", str(events), "--list")
    assert res.exit_code == 0, res.output
    assert "a1-deal" in res.output and "2021-06-05" in res.output
    res = run("events", "--store", str(path), "--universe", str(uni), "--events", str(events), "--by", "event",
              "--kind", "fomc_cut", "--no-relative", "--start", "2021-06-01")
    assert res.exit_code == 0, res.output
    assert "2021-09-22 fomc_cut: cut two (day 0 2021-09-22)" in res.output
    assert "cut one" not in res.output and "Relative CAR" not in res.output


def test_errors_are_one_line_with_exit_codes(synthetic, tmp_path) -> None:
    path, uni, events = synthetic
    base = ["events", "--store", str(path), "--universe", str(uni), "--events", str(events)]
    res = run(*base, "--kind", "fomc_hold")
    assert res.exit_code == 2 and "no events of kind fomc_hold" in res.output
    res = run(*base, "--windows", "5:0")
    assert res.exit_code == 2 and "--windows" in res.output
    res = run(*base, "--level", "sector")
    assert res.exit_code == 2 and "--level" in res.output
    res = run(*base, "--market", "QQQ")
    assert res.exit_code == 2 and "QQQ" in res.output
    res = run(*base, "--relative", "crypto")
    assert res.exit_code == 2 and "--relative" in res.output
    res = run(*base, "--kind", "deal")  # basket level, an event about one instrument only
    assert res.exit_code == 1 and "--level members" in res.output
    res = run(*base, "--kind", "deal", "--level", "members", "--baskets", "ai,crypto")
    assert res.exit_code == 0 and "relative CAR not computed" in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text(textwrap.dedent(EVENTS).replace('affects = ["A1"]', 'affects = ["A1", "ZZZ"]'))
    res = run("events", "--store", str(path), "--universe", str(uni), "--events", str(bad))
    assert res.exit_code == 2 and f"{bad}:25" in res.output and "unknown instrument or basket 'ZZZ'" in res.output
    res = run("events", "--store", str(tmp_path / "none.duckdb"), "--universe", str(uni), "--events", str(events))
    assert res.exit_code == 3 and "rotation fetch" in res.output
    assert "Traceback" not in res.output


def test_parse_windows() -> None:
    assert parse_windows(["-1:1,0:5", "0:20"]) == [(-1, 1), (0, 5), (0, 20)]
    assert parse_windows(None) is None
    with pytest.raises(ParameterError, match="START:END"):
        parse_windows(["0-5"])


@pytest.mark.shared_data
def test_real_store_rate_decisions_and_etf_approval(real_store) -> None:
    path = str(real_store.path)
    res = run("events", "--store", path, "--kind", "fomc_cut,fomc_hike,fomc_hold")
    assert res.exit_code == 0, res.output
    for title in ("fomc_hike (11 events)", "fomc_hold (15 events)", "fomc_cut (6 events)",
                  "Relative CAR (A minus B): crypto_majors - ai_compute"):
        assert title in res.output, title
    for basket in ("ai_compute", "ai_cloud", "ai_datacenter_power", "crypto_majors", "crypto_equities",
                   "miners_ai_hosting", "rwa_depin"):
        assert len(rows_of(res.output, basket)) == 3, basket  # one block per kind
    res = run("events", "--store", path, "--kind", "etf_approval", "--level", "members",
              "--baskets", "crypto_majors,benchmarks", "--by", "event")
    assert res.exit_code == 0, res.output
    assert "IBIT left out of btc-etf-approval" in res.output and "first return 2024-01-1" in res.output
