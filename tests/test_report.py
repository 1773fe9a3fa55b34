"""The HTML report: self-contained (no network), every section and chart present, numbers from analytics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rotation.cli import app
from rotation.store import Store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A store with the default universe's AI compute and crypto majors members, random walks."""
    rng = np.random.default_rng(3)
    path = tmp_path / "s.duckdb"
    sess = pd.bdate_range("2022-01-03", "2024-12-31")
    days = pd.date_range("2022-01-01", "2024-12-31")
    with Store(path) as s:
        for sym in ["NVDA", "AMD", "AVGO", "MSFT", "SPY", "SMH"]:
            px = 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, len(sess))))
            s.write_observations(pd.DataFrame({"symbol": sym, "date": sess, "adj_close": px, "volume": 1e6}),
                                 source="yahoo")
        for sym in ["BTC", "ETH"]:
            px = 1000 * np.exp(np.cumsum(rng.normal(0.0, 0.04, len(days))))
            s.write_observations(pd.DataFrame({"symbol": sym, "date": days, "close": px, "market_cap": px * 1e7}),
                                 source="coingecko")
    return path


def test_report_is_self_contained_and_complete(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["report", "--store", str(store_path), "-o", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    # offline: no external scripts, styles or fonts
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=[\"']https?:", html)
    assert not re.search(r"<img[^>]+src=[\"']https?:", html)
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.js is inlined
    for section in ("Headline", "Basket performance", "Performance and risk", "Data"):
        assert f">{section}</h2>" in html
    figures = json.loads(re.search(r"const FIGURES = (\{.*?\});\n", html, re.S).group(1))
    assert set(figures) == {"fig-levels", "fig-trailing"}
    names = {t["name"] for t in figures["fig-levels"]["data"]}
    assert {"ai_compute", "crypto_majors", "benchmarks"} <= names
    assert "As of 2024-12-3" in html  # the common window ends with the data
    assert "ai_compute" in html and "Last 13 weeks" in html


def test_report_window_options(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", "--store", str(store_path), "-o", str(out),
                                   "--start", "2023-01-01", "--end", "2023-12-31"])
    assert res.exit_code == 0, res.output
    assert "As of 2023-12-29" in out.read_text()
    res = CliRunner().invoke(app, ["report", "--store", str(store_path), "-o", str(out), "--start", "2023-99-01"])
    assert res.exit_code == 2 and "start" in res.output
