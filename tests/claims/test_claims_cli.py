"""``rotation claims`` end to end: constructed stores, errors, and the real data in ../shared/data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import claims_synthetic as cs
from rotation.claims import CLAIM_IDS, VERDICTS, evaluate_claims
from rotation.cli._claims import register
from rotation.store import Store

runner = CliRunner()
PENDING = ["R4", "R5", "R7", "R8", "R10", "R11", "R12"]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.command("noop")  # a second command keeps `claims` a sub-command, as in the real app
    def _noop() -> None:
        pass

    return a


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from rotation.cli import _common

    for con in (_common.console, _common.err_console):
        monkeypatch.setattr(con, "_width", 220)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return cs.build(tmp_path_factory.mktemp("claims-cli"), "ai_wins")


def test_table_lists_all_twelve_claims(app, synthetic):
    store, uni, cfg = synthetic
    res = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "Claims ledger" in out
    for cid in CLAIM_IDS:
        assert f"│ {cid} " in out
    assert out.count("supported") >= 5 and out.count("not yet implemented") >= 7
    assert "Rule: supported when" in out
    assert "not yet implemented (no verdict given): R4, R5, R7, R8, R10, R11, R12" in out


def test_json_subset_and_as_of(app, synthetic):
    store, uni, cfg = synthetic
    res = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--config", str(cfg),
                              "--json", "--claim", "R1,r4", "--claim", "R9", "--as-of", "2023-06-30"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert [c["id"] for c in doc["claims"]] == ["R1", "R4", "R9"]
    assert doc["as_of"] == "2023-06-30"
    assert doc["claims"][1]["status"] == "not yet implemented" and doc["claims"][1]["verdict"] is None
    assert doc["claims"][0]["window"]["end"] <= "2023-06-30"
    light = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--config", str(cfg),
                                "--json", "--no-evidence", "--claim", "R1"])
    assert json.loads(light.output)["claims"][0]["evidence"]["relative_return"]["rows"] > 10


def test_errors_exit_cleanly(app, synthetic, tmp_path):
    store, uni, cfg = synthetic
    bad = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--claim", "R13"])
    assert bad.exit_code == 2 and "R13" in bad.output
    date = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--as-of", "31/12/2023"])
    assert date.exit_code == 2 and "--as-of" in date.output
    cfg_bad = tmp_path / "bad.toml"
    cfg_bad.write_text("[defaults]\nlevel = 2\n")
    res = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--config", str(cfg_bad)])
    assert res.exit_code == 2 and "bad.toml:2" in res.output and "defaults.level" in res.output
    none = runner.invoke(app, ["claims", "--store", str(tmp_path / "missing.duckdb")])
    assert none.exit_code == 3 and "no store" in none.output
    # the default config names baskets this universe lacks: a config error at the key's line
    wrong = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--claim", "R1"])
    assert wrong.exit_code == 2 and "default_claims.toml:" in wrong.output and "unknown basket" in wrong.output


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_real_ledger_has_twelve_claims_with_evidence(app, real_store):
    res = runner.invoke(app, ["claims", "--store", str(real_store.path), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    claims = {c["id"]: c for c in doc["claims"]}
    assert list(claims) == list(CLAIM_IDS)  # none silently missing
    assert [c for c, e in claims.items() if e["status"] == "not yet implemented"] == PENDING
    for cid in ("R1", "R2", "R3", "R6", "R9"):
        c = claims[cid]
        assert c["status"] == "evaluated" and c["verdict"] in VERDICTS, cid
        assert c["evidence"] and all(f["data"] for f in c["evidence"].values()), cid
        assert c["data"] and c["rule"] and c["window"]["start"] < c["window"]["end"]
        if c["verdict"] != "insufficient data":
            assert c["effect"]["value"] is not None and (c["interval"] or c["p_value"] is not None)
        else:
            assert c["missing"]
    # data caveats of the shared data surface in the verdicts
    r1 = claims["R1"]
    assert any("back-cast" in c for c in r1["caveats"])
    assert any("crypto_majors" in c for c in r1["caveats"])  # ETH/SOL/XRP/BNB end before the equities
    assert any("rwa_depin" in c for c in claims["R9"]["caveats"])
    # sanity on the real numbers: crypto is far more volatile than the AI side (about twice, 2023-2026)
    assert claims["R6"]["statistics"]["volatility_ratio_crypto_to_ai"] > 1.4
    assert claims["R2"]["statistics"]["weeks"] > 150


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_as_of_ledger_ignores_later_data(real_store, real_universe, tmp_path):
    """A copy of the store holding only rows dated up to the as-of date gives the same ledger."""
    as_of = "2023-12-31"
    symbols = list(real_universe.instruments)
    obs = real_store.read_observations(symbols, end=as_of)
    macro = real_store.read_macro(list(real_universe.macro), end=as_of)
    with Store(tmp_path / "cut.duckdb") as cut:
        for source, part in obs.groupby("source"):
            cut.write_observations(part.drop(columns="source"), source=source)
        for source, part in macro.groupby("source"):
            cut.write_macro(part.drop(columns="source"), source=source)
    with Store(tmp_path / "cut.duckdb", read_only=True) as cut:
        then = evaluate_claims(cut, real_universe, as_of=as_of)
    now = evaluate_claims(real_store, real_universe, as_of=as_of)
    assert now.to_json() == then.to_json()
    assert all(v.window[1] <= pd.Timestamp(as_of) for v in now.verdicts)
