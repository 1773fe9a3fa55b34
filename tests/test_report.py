"""The HTML report: every section present, self-contained, numbers from analytics, graceful degradation, --as-of.

Most tests share one report built from a synthetic store (factor-model prices for the default
universe's baskets, market caps from one snapshot, macro series with a TGA that stops early, S&P 500
membership spells) so the whole file runs in well under a minute. Real-data tests are marked slow.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rotation.cli import _data_commands
from rotation.store import Store
from synthetic_store import prices, series, spells, walk, write_store

FIXTURES = Path(__file__).parent / "fixtures" / "report"

SECTION_IDS = ["headline", "rrg", "rotation", "performance", "comovement", "macro", "concentration", "events",
               "stress", "claims", "provenance"]

AI = {"NVDA": 1.4, "AMD": 1.5, "AVGO": 1.2, "MU": 1.3, "MSFT": 1.0, "AMZN": 1.1, "GOOGL": 1.0, "EQIX": 0.8,
      "DLR": 0.8}
CRYPTO_EQ = {"COIN": 1.6, "MSTR": 1.8, "MARA": 1.9, "RIOT": 1.9}
CAPS = {"NVDA": 3.0e12, "AMD": 2.5e11, "AVGO": 8.0e11, "MU": 1.2e11, "MSFT": 3.1e12, "AMZN": 1.9e12,
        "GOOGL": 2.1e12, "EQIX": 8.0e10, "DLR": 5.0e10, "COIN": 6.0e10, "MSTR": 3.0e10, "SPY": None}


def _app() -> typer.Typer:
    app = typer.Typer()
    _data_commands.register(app)
    return app


def run(*args: str):
    return CliRunner().invoke(_app(), ["report", *args])


def make_store(path: Path, *, start: str = "2021-01-04", end: str = "2024-12-31", macro: bool = True,
               caps: bool = True, membership: bool = True, seed: int = 11) -> Path:
    """A synthetic store: one market factor drives the equities, crypto has its own factor."""
    rng = np.random.default_rng(seed)
    sess = pd.bdate_range(start, end)
    days = pd.date_range(start, end)
    mkt = rng.normal(0.0004, 0.011, len(sess))
    obs: dict[str, list[pd.DataFrame]] = {"yahoo": [], "coingecko": [], "binance": []}
    for sym, b in {**AI, **CRYPTO_EQ, "SPY": 1.0, "QQQ": 1.1}.items():
        r = b * mkt + rng.normal(0.0002, 0.012 if sym in AI else 0.03, len(sess))
        obs["yahoo"].append(prices(sym, sess, walk(50, r), fields=("adj_close",), volume=1e6))
    crypto_f = rng.normal(0.0, 0.03, len(days))
    for sym, (level, supply) in {"BTC": (30000, 19.5e6), "ETH": (2000, 120e6), "SOL": (40, 4e8)}.items():
        px = walk(level, crypto_f + rng.normal(0.0003, 0.02, len(days)))
        obs["coingecko"].append(prices(sym, days, px, fields=("close",), shares=supply if caps else None,
                                       volume_usd=px * 1e4))
    for sym in ("LINK", "FIL", "RENDER"):
        px = walk(10, crypto_f * 1.3 + rng.normal(0.0, 0.03, len(days)))
        obs["binance"].append(prices(sym, days, px, fields=("close",)))
    if caps:
        snap = sess[-60]
        caps_on = [{"symbol": k, "date": snap, "market_cap": v} for k, v in CAPS.items() if v]
        obs["yahoo_snapshot"] = [pd.DataFrame(caps_on)]
    rows = []
    if macro:
        bd = pd.bdate_range(start, end)
        rate = np.cumsum(rng.normal(0, 0.03, len(bd)))
        values = {"DGS2": 2.0 + rate, "DFII10": 0.5 + 0.6 * rate + np.cumsum(rng.normal(0, 0.02, len(bd))),
                  "DTWEXBGS": walk(110, rng.normal(0, 0.003, len(bd))),
                  "DFF": np.clip(1.0 + rate, 0.05, None),
                  "RRPONTSYD": walk(1500, rng.normal(0, 5, len(bd)), "add")}
        rows = [series(sym, bd, v) for sym, v in values.items()]
        weds = pd.date_range(start, end, freq="W-WED")
        rows.append(series("WALCL", weds, walk(8.0e6, rng.normal(0, 1e4, len(weds)), "add")))
        tga = weds[weds <= "2023-06-30"]  # the TGA series stops early: net liquidity must end there
        rows.append(series("WTREGEN", tga, walk(700, rng.normal(0, 10, len(tga)), "add")))
    members = dict.fromkeys([k for k in CAPS if k != "SPY"], ("2015-01-01", None))
    return write_store(path, obs, macro=rows, membership={"SP500": spells(members)} if membership else None)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("report-store") / "s.duckdb")


@pytest.fixture(scope="module")
def report(store_path: Path):
    """The full report of the synthetic store (default claims configuration, the user's events too)."""
    from rotation.report import build_report
    from rotation.universe import load_universe

    with Store(store_path, read_only=True) as s:
        return build_report(s, load_universe(), events=FIXTURES / "my_events.toml")


@pytest.fixture(scope="module")
def report_html(report) -> str:
    return report.html


def figures_of(html: str) -> dict:
    return json.loads(re.search(r"const FIGURES = (\{.*?\});\n", html, re.S).group(1))


def _text(fragment: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def notices(html: str) -> list[tuple[str, str, str]]:
    """(class, what, reason) of every "not available" panel."""
    return [(m.group(1), unescape(m.group(2)), _text(m.group(3)))
            for m in re.finditer(r'<div class="notice([^"]*)"><b>Not available: (.*?)\.</b>(.*?)</div>', html, re.S)]


def headline(html: str) -> list[str]:
    block = re.search(r'<div class="headline"><ul>(.*?)</ul>', html, re.S).group(1)
    return [_text(li) for li in re.findall(r"<li>(.*?)</li>", block, re.S)]


# ----------------------------------------------------------------------------- the full report
def test_every_section_is_present_in_order(report_html: str) -> None:
    ids = re.findall(r'<section id="([a-z]+)">', report_html)
    assert ids == SECTION_IDS
    nav = re.findall(r'<nav>(.*?)</nav>', report_html, re.S)[0]
    assert [a for a in re.findall(r'href="#([a-z]+)"', nav)] == SECTION_IDS


def test_report_is_self_contained(report_html: str) -> None:
    assert not re.search(r"<script[^>]+src=", report_html)
    assert not re.search(r"<link[^>]+href=", report_html)
    assert not re.search(r"<img[^>]+src=[\"']https?:", report_html)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", report_html)
    # plotly.js inlined exactly once
    assert report_html.count("Plotly.newPlot(el") == 1
    assert len(re.findall(r"plotly\.js v\d", report_html)) == 1
    assert len(report_html) > 3_000_000


def test_every_chart_has_its_figure_and_draws_something(report_html: str) -> None:
    figs = figures_of(report_html)
    divs = re.findall(r'data-figure="([^"]+)"', report_html)
    assert sorted(divs) == sorted(figs), "every chart element has a figure and vice versa"
    assert len(divs) == len(set(divs))
    for fid, fig in figs.items():
        assert fig["data"], f"{fid} has no trace"
        assert any(len(t.get("x", t.get("y", []))) for t in fig["data"]), f"{fid} has no points"
    for must in ("fig-rrg", "fig-rotation-index", "fig-regime-probability", "fig-cap-shares", "fig-levels",
                 "fig-rolling-corr", "fig-residual-corr", "fig-lead-lag", "fig-macro-sensitivity",
                 "fig-net-liquidity", "fig-concentration", "fig-contribution", "fig-events-0", "fig-events-1",
                 "fig-drawdowns", "fig-scenario-0", "fig-claim-R1-0"):
        assert must in figs, must


def test_no_internal_error_and_expected_degradation(report_html: str) -> None:
    found = notices(report_html)
    assert not [n for n in found if "internal" in n[0]], found
    # net liquidity must stop where the stored TGA stops, and say so
    assert "is stored only until 2023-06-2" in report_html
    assert "WTREGEN" in report_html


def test_headline_is_generated_from_the_numbers(report_html: str) -> None:
    lines = headline(report_html)
    text = " ".join(lines)
    assert lines[0].startswith("As of 2024-12-3")
    assert "Relative rotation against SPY" in text
    assert re.search(r"ai_compute (leading|weakening|lagging|improving)", text)
    assert re.search(r"Rotation index \(AI side minus crypto side, 13-week market cap growth\): [+-]\d\.\d\d", text)
    assert re.search(r"Regime of the weekly AI-minus-crypto growth: '[A-Za-z ,]+' since \d{4}-\d\d-\d\d", text)
    assert re.search(r"Last 4 weeks: best basket \w+ \([+-]\d", text)
    assert re.search(r"Last 13 weeks: best basket \w+ \([+-]\d", text)
    assert "Claims ledger:" in text and "R1" in text
    assert "At a glance" in report_html


def test_claims_ledger_lists_every_claim_with_evidence(report_html: str) -> None:
    for i in range(1, 13):
        assert f'id="claim-R{i}"' in report_html
    cards = re.findall(r'<article class="claim (v-[a-z]+)" id="claim-(R\d+)">', report_html)
    assert len(cards) == 12
    decided = [cid for cls, cid in cards if cls != "v-pending"]
    assert "R1" in decided
    figs = figures_of(report_html)
    for cls, cid in cards:
        if cls in ("v-supported", "v-contradicted", "v-inconclusive"):
            assert any(f.startswith(f"fig-claim-{cid}-") for f in figs), f"{cid} has no chart"
    assert "Decision rule." in report_html


def test_both_event_sets_are_studied(report_html: str) -> None:
    assert "default events" in report_html and "your events (my_events.toml)" in report_html
    figs = figures_of(report_html)
    kinds = [b["label"] for b in figs["fig-events-1"]["layout"]["updatemenus"][0]["buttons"]]
    assert any(k.startswith("bank_stress") for k in kinds), kinds
    # the crypto-minus-AI spread is studied for events that affect both sides
    assert "crypto side - AI side" in json.dumps(figs["fig-events-0"])


def test_rrg_has_every_basket_and_a_member_toggle(report_html: str) -> None:
    fig = figures_of(report_html)["fig-rrg"]
    names = {t["name"] for t in fig["data"] if t.get("visible") is True and t.get("showlegend") is not False}
    assert {"ai_compute", "ai_cloud", "crypto_majors", "crypto_equities"} <= names
    buttons = fig["layout"]["updatemenus"][0]["buttons"]
    assert buttons[0]["label"] == "Baskets"
    assert any(b["label"] == "Members of ai_compute" for b in buttons)
    for b in buttons:  # each view shows its own traces and sets axes centred on 100
        vis = b["args"][0]["visible"]
        assert len(vis) == len(fig["data"]) and any(vis)
        lo, hi = b["args"][1]["xaxis.range"]
        assert lo < 100 < hi and abs((lo + hi) / 2 - 100) < 1e-9


def test_provenance_has_sources_quality_versions_and_timings(report_html: str) -> None:
    prov = report_html[report_html.index('<section id="provenance">'):]
    for text in ("Instruments in the panel", "What the panel builder did", "Quality checks (rotation check)",
                 "Stored series, worst first", "Versions", "Run time per stage", "coingecko", "yahoo"):
        assert text in prov, text
    assert "No data for:" in prov  # universe members the synthetic store lacks are named


# ----------------------------------------------------------------------------- numbers from analytics
def test_numbers_come_from_the_analytics(store_path: Path, report) -> None:
    from rotation.analytics.comovement import residual_correlation
    from rotation.analytics.performance import basket_performance
    from rotation.analytics.rrg import to_weekly
    from rotation.panel import basket_index, build_panel
    from rotation.universe import load_universe

    uni = load_universe()
    with Store(store_path, read_only=True) as s:
        panel = build_panel(s, uni, symbols=uni.members(), cap_method="backcast")
    shown = [n for n, b in uni.baskets.items() if b.role in ("ai", "crypto", "benchmark")]
    perf = basket_performance(panel, shown)
    rep = report
    html = rep.html
    # the risk table shows basket_performance's numbers
    cagr = perf.risk.loc["ai_compute", "cagr"]
    row = re.search(r"<tr><td>ai_compute</td>(.*?)</tr>", html[html.index('id="performance"'):], re.S).group(1)
    assert f"{cagr:+.1%}" in row
    # the residual correlation is rotation.analytics.comovement.residual_correlation of the weekly side returns
    lv = perf.levels[[n for n in ("ai_compute", "ai_cloud", "ai_datacenter_power") if n in perf.levels]]
    ai = basket_index(lv, weighting="equal", rebalance="D", name="AI side").level
    cr = perf.levels["crypto_majors"]
    spy = panel.prices["SPY"].loc[: perf.window.end]

    def wret(x: pd.Series) -> pd.Series:
        w = to_weekly(x)
        return w / w.shift(1) - 1

    expected = residual_correlation(wret(ai), wret(cr), wret(spy))
    got = rep.results["residual_correlation"]
    assert got.correlation == pytest.approx(expected.correlation, abs=1e-12)
    assert f"{expected.correlation:,.3f}" in html
    # the headline quotes the rotation index of the section
    ri = rep.results["rotation_index"].index.dropna()
    assert f"{ri.iloc[-1]:+.2f} log points" in " ".join(headline(html))
    # the ledger in the report is the one evaluate_claims gives
    assert [e.claim_id for e in rep.ledger.entries] == [f"R{i}" for i in range(1, 13)]


# ----------------------------------------------------------------------------- as of a date
def test_as_of_uses_only_data_available_then(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "asof.html"
    res = run("--store", str(store_path), "-o", str(out), "--as-of", "2023-06-30",
              "--claims-config", str(FIXTURES / "fast_claims.toml"))
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert "as of 2023-06-30" in html
    assert headline(html)[0].startswith("As of 2023-06-30")
    late = []
    for fid, fig in figures_of(html).items():
        for t in fig["data"]:
            for v in t.get("x", []) if isinstance(t.get("x"), list) else []:
                if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\d.*", v) and v[:10] > "2023-06-30":
                    late.append((fid, v))
    assert not late, late[:5]
    # the cap snapshot (2024) is not available yet: cap-based parts say so instead of using it
    found = notices(html)
    assert any(w == "Market-cap shares" and "2023-06-30" in r for _, w, r in found), found
    assert any(w == "Concentration" for _, w, _ in found)
    assert not [n for n in found if "internal" in n[0]]
    assert "as of 2023-06-30" in html[html.index('id="claims"'):]
    assert "fast_claims.toml" in html  # the configuration used is named


def test_window_options(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = run("--store", str(store_path), "-o", str(out), "--start", "2022-06-01", "--end", "2023-12-31",
              "--claims-config", str(FIXTURES / "fast_claims.toml"))
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert headline(html)[0].startswith("As of 2023-12-29")
    assert "window from 2022-06-01" in html
    levels = figures_of(html)["fig-levels"]["data"]
    assert min(t["x"][0] for t in levels) >= "2022-06-01"
    res = run("--store", str(store_path), "-o", str(out), "--start", "2023-99-01")
    assert res.exit_code == 2 and "start" in res.output
    res = run("--store", str(store_path), "-o", str(out), "--start", "2024-01-01", "--end", "2023-01-01")
    assert res.exit_code == 2 and "before" in res.output


# ----------------------------------------------------------------------------- degradation
def test_degrades_gracefully_without_macro_caps_or_membership(tmp_path: Path) -> None:
    path = make_store(tmp_path / "thin.duckdb", start="2023-01-02", end="2023-10-31", macro=False, caps=False,
                      membership=False, seed=5)
    out = tmp_path / "thin.html"
    res = run("--store", str(path), "-o", str(out), "--claims-config", str(FIXTURES / "fast_claims.toml"))
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert re.findall(r'<section id="([a-z]+)">', html) == SECTION_IDS
    found = {w: r for _, w, r in notices(html)}
    assert not [n for n in notices(html) if "internal" in n[0]], notices(html)
    assert "no macro series" in found["Macro sensitivities"]
    assert "no macro series" in found["Net liquidity"]
    assert "market cap" in found["Market-cap shares"]
    assert "SP500" in found["Index contribution"]
    assert "50 needed" in found["Regimes"]  # 43 weeks is too short for a 2-state model
    # the rest is still there
    assert "fig-levels" in figures_of(html) and "fig-drawdowns" in figures_of(html)
    assert all(reason for reason in found.values())


def test_user_files_are_checked_before_any_work(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "never.html"
    res = run("--store", str(store_path), "-o", str(out), "--events", str(FIXTURES / "bad_events.csv"))
    assert res.exit_code == 2
    assert "bad_events.csv:3" in res.output and "2023-13-45" in res.output
    bad = tmp_path / "claims.toml"
    bad.write_text('[defaults]\nai = ["no_such_basket"]\n')
    res = run("--store", str(store_path), "-o", str(out), "--claims-config", str(bad))
    assert res.exit_code == 2 and "no_such_basket" in res.output
    res = run("--store", str(store_path), "-o", str(out), "--events", str(tmp_path / "missing.toml"))
    assert res.exit_code == 2 and "missing.toml" in res.output
    assert not out.exists()


def test_user_text_is_escaped(report_html: str) -> None:
    # my_events.toml has a label that tries to close the script element
    assert "alert(1)" in report_html
    assert "<script>alert(1)" not in report_html


def test_empty_and_missing_store(tmp_path: Path) -> None:
    res = run("--store", str(tmp_path / "none.duckdb"), "-o", str(tmp_path / "x.html"))
    assert res.exit_code == 3 and "rotation fetch" in res.output
    with Store(tmp_path / "empty.duckdb"):
        pass
    res = run("--store", str(tmp_path / "empty.duckdb"), "-o", str(tmp_path / "x.html"))
    assert res.exit_code == 3 and "empty" in res.output


# ----------------------------------------------------------------------------- pieces
def test_formatting_escapes_and_formats() -> None:
    from rotation.report._model import fmt_table, fmt_value

    assert fmt_value(0.1234, "pct") == "+12.3%"
    assert fmt_value(np.nan, "pct") == ""
    assert fmt_value(pd.Timestamp("2024-01-02")) == "2024-01-02"
    assert fmt_value(3.2e12, "auto") == "3.20 tn" and fmt_value(0.000123456, "auto") == "0.0001235"
    assert fmt_value(0.0004, "p") == "<0.001"
    html = fmt_table(pd.DataFrame({"a": [1.5, -2.0], "b": ["<x>", "y"]}, index=pd.Index(["<r>", "s"], name="i")),
                     {"a": "num"}, signed=["a"])
    assert "&lt;x&gt;" in html and "&lt;r&gt;" in html and "<x>" not in html
    assert '<td class="pos">1.50</td>' in html and '<td class="neg">-2.00</td>' in html


def test_evidence_charts_known_and_generic() -> None:
    from rotation.report._ledger import evidence_figure

    dates = pd.date_range("2024-01-05", periods=30, freq="W-FRI")
    path = pd.DataFrame({"date": dates, "ai": np.linspace(100, 120, 30), "crypto": np.linspace(100, 90, 30),
                         "relative_log": np.linspace(0, 0.29, 30)})
    fig = evidence_figure("relative_return", path)
    assert [t.name for t in fig.data] == ["relative_log"]
    generic = evidence_figure("something_new", path.drop(columns="relative_log"))
    assert {t.name for t in generic.data} == {"ai", "crypto"}
    sens = pd.DataFrame({"series": ["ai", "crypto"], "term": ["d_DGS2"] * 2, "coef": [0.1, -0.2],
                         "ci_low": [0.0, -0.4], "ci_high": [0.2, 0.0]})
    assert len(evidence_figure("another_new_table", sens).data) == 2
    path = pd.DataFrame({"group": ["crypto - ai"] * 3, "day": [0, 1, 2], "n": 5, "mean_car": [0.0, 0.01, 0.02],
                         "ci_low": [-0.01, -0.01, -0.02], "ci_high": [0.01, 0.03, 0.06]})
    car = evidence_figure("some_car_path", path)
    assert [t.name for t in car.data if t.showlegend is not False] == ["crypto - ai"]
    assert evidence_figure("a_table", pd.DataFrame({"x": ["a", "b"], "y": [1, 2]})) is None
    assert evidence_figure("empty", pd.DataFrame()) is None


# ----------------------------------------------------------------------------- figure export
def test_export_figures_with_chromium(report, tmp_path: Path) -> None:
    from rotation.report import export_figures
    from rotation.report._chromium import find_chromium

    if find_chromium() is None:
        pytest.skip("no chromium installed (apt-get install chromium)")
    figs = [f for f in report.figures if f.id in ("fig-rrg", "fig-macro-sensitivity", "fig-levels")]
    files = export_figures(figs, tmp_path / "figs", engine="chromium")
    assert sorted(p.name for p in files) == sorted(f"{f.id}.{e}" for f in figs for e in ("svg", "png"))
    svg = (tmp_path / "figs" / "fig-rrg.svg").read_text()
    assert svg.startswith("<svg") and "RS-Ratio" in svg and "leading" in svg
    png = (tmp_path / "figs" / "fig-levels.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width == 2 * 1100  # WIDTH css pixels at scale 2


@pytest.mark.slow
def test_figures_option_exports_every_chart(store_path: Path, tmp_path: Path) -> None:
    from rotation.report._chromium import find_chromium

    if find_chromium() is None:
        pytest.skip("no chromium installed (apt-get install chromium)")
    out, figs = tmp_path / "r.html", tmp_path / "figs"
    res = run("--store", str(store_path), "-o", str(out), "--figures", str(figs), "--end", "2023-12-31",
              "--claims-config", str(FIXTURES / "fast_claims.toml"))
    assert res.exit_code == 0, res.output
    ids = set(figures_of(out.read_text()))
    assert {p.name for p in figs.iterdir()} == {f"{i}.{e}" for i in ids for e in ("svg", "png")}


def test_figures_option_without_any_engine(store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rotation.report._export as ex

    monkeypatch.setattr(ex, "find_chromium", lambda *a, **k: None)
    monkeypatch.setitem(__import__("sys").modules, "kaleido", None)
    out = tmp_path / "r.html"
    res = run("--store", str(store_path), "-o", str(out), "--figures", str(tmp_path / "f"))
    assert res.exit_code == 2 and "chromium" in res.output.lower()
    assert not out.exists()  # checked before any work


# ----------------------------------------------------------------------------- real data
@pytest.mark.slow
def test_real_data_report(real_store, tmp_path: Path) -> None:
    out = tmp_path / "real.html"
    res = run("--store", real_store.path, "-o", str(out))
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert re.findall(r'<section id="([a-z]+)">', html) == SECTION_IDS
    assert not notices(html), notices(html)  # the full real history has every input
    assert len(re.findall(r'<article class="claim', html)) == 12
    assert "Run time per stage" in html
    res = run("--store", real_store.path, "-o", str(out), "--as-of", "2024-12-31")
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert headline(html)[0].startswith("As of 2024-12-31")
    assert not [n for n in notices(html) if "internal" in n[0]]


def test_export_figures_with_kaleido(report, tmp_path: Path) -> None:
    pytest.importorskip("kaleido", reason="kaleido>=1 not installed (the chromium engine is used instead)")
    from rotation.report import export_figures
    from rotation.report._chromium import find_chromium

    if find_chromium() is None:
        pytest.skip("no chromium for kaleido to drive")
    figs = [f for f in report.figures if f.id == "fig-rrg"]
    files = export_figures(figs, tmp_path, engine="kaleido")
    assert [p.name for p in files] == ["fig-rrg.svg", "fig-rrg.png"]
    assert (tmp_path / "fig-rrg.svg").read_text().startswith("<svg")
    assert int.from_bytes((tmp_path / "fig-rrg.png").read_bytes()[16:20], "big") == 2 * 1100
