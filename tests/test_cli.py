"""End to end through the CLI: fetch (real source classes over a mock transport), status, report, errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from rotation.cli import app
from rotation.sources import RetryPolicy, make_source
from synthetic_store import basket_toml, instrument_toml, macro_toml

runner = CliRunner()

UNIVERSE = "\n".join([
    instrument_toml("NVDA", "NOPE"), macro_toml("DGS2", release_lag_days=None),
    basket_toml("ai", ["NVDA"], role="ai", weighting=None),
])


@pytest.fixture
def offline_providers(monkeypatch: pytest.MonkeyPatch, fixtures_dir: Path) -> list[str]:
    """Serve recorded provider responses; an unknown symbol gets Yahoo's real 404 body."""
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if request.url.host.endswith("finance.yahoo.com"):
            if request.url.path.endswith("/NVDA"):
                return httpx.Response(200, content=(fixtures_dir / "yahoo/nvda_2024-06_split_dividend.json").read_bytes())
            return httpx.Response(404, content=(fixtures_dir / "yahoo/not_found_404.json").read_bytes())
        if request.url.host == "fred.stlouisfed.org":
            return httpx.Response(200, content=(fixtures_dir / "fred/dgs2_observation_date.csv").read_bytes(),
                                  headers={"content-type": "text/csv"})
        return httpx.Response(500)

    def factory(name, settings=None, *, client=None, retry=None):
        return make_source(name, settings, client=httpx.Client(transport=httpx.MockTransport(handler)),
                           retry=RetryPolicy(attempts=2, sleep=lambda s: None))

    monkeypatch.setattr("rotation.store._fetch.make_source", factory)
    return requested


@pytest.fixture
def universe_file(tmp_path: Path) -> Path:
    p = tmp_path / "universe.toml"
    p.write_text(UNIVERSE)
    return p


def test_fetch_status_flow(tmp_path: Path, universe_file: Path, offline_providers: list[str]) -> None:
    store = tmp_path / "s.duckdb"
    res = runner.invoke(app, ["fetch", "--store", str(store), "--universe", str(universe_file),
                              "--start", "2024-06-01", "--end", "2024-06-14"])
    # NOPE is unknown at Yahoo: the run reports it and exits 1, the rest is stored
    assert res.exit_code == 1, res.output
    assert "NVDA (yahoo) ok" in res.output and "NOPE (yahoo) failed" in res.output
    assert "unknown symbol" in res.output and "run `rotation fetch` again" in res.output
    assert len(offline_providers) == 3

    res = runner.invoke(app, ["status", "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert "NVDA" in res.output and "DGS2" in res.output and "failed on their last fetch" in res.output

    res = runner.invoke(app, ["status", "--store", str(store), "--json"])
    data = json.loads(res.output)
    rows = {(c["symbol"], c["source"]): c["rows"] for c in data["coverage"]}
    assert rows[("NVDA", "yahoo")] == 10 and ("DGS2", "fred") in rows


def test_bad_inputs_exit_with_a_message_not_a_traceback(tmp_path: Path, universe_file: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[instruments.X]\nasset_class = "bond"\nsources = { yahoo = "X" }\n')
    res = runner.invoke(app, ["fetch", "--store", str(tmp_path / "s.duckdb"), "--universe", str(bad)])
    assert res.exit_code == 2
    assert "bad.toml:2" in res.output and "instruments.X.asset_class" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["fetch", "--store", str(tmp_path / "s.duckdb"), "--universe", str(universe_file),
                              "--start", "2024-13-01"])
    assert res.exit_code == 2 and "start: expected YYYY-MM-DD, got '2024-13-01'" in res.output


def test_report_on_missing_or_empty_store_says_how_to_proceed(tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", "--store", str(tmp_path / "none.duckdb")])
    assert res.exit_code == 3
    assert "rotation fetch" in res.output and "rotation import" in res.output
    from rotation.store import Store

    Store(tmp_path / "empty.duckdb").close()
    res = runner.invoke(app, ["report", "--store", str(tmp_path / "empty.duckdb")])
    assert res.exit_code == 3 and "is empty" in res.output and "rotation import" in res.output
    assert "Traceback" not in res.output


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("rotation ")
