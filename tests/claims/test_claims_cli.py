"""``rotation claims`` end to end: constructed stores, errors, and the real data in ../shared/data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import claims_synthetic as cs
from rotation.claims import CLAIM_IDS, VERDICTS, evaluate_claims, load_claims_config
from rotation.claims._registry import claim_module
from rotation.cli._claims import register
from rotation.store import Store

runner = CliRunner()
#: Verdicts on the ai_wins panel (see test_claims_rules.py for why each is what it is).
AI_WINS = {**dict.fromkeys(cs.CONSTRUCTED, "supported"), "R10": "inconclusive",
           **dict.fromkeys(("R4", "R5", "R7", "R8", "R11", "R12"), "insufficient data")}


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
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│ R")}
    assert list(rows) == list(CLAIM_IDS)
    for cid, verdict in AI_WINS.items():
        assert rows[cid].split("│")[3].strip() == verdict, rows[cid]
        assert f"{cid} {verdict}. Rule: supported when" in out  # every claim states its rule
    assert "not yet implemented" not in out  # every claim has code: no pending line
    # insufficient verdicts say what is missing
    assert "missing: the membership of index SP500 is needed" in out
    assert "missing: no fomc_cut, qt_taper, qt_end events" in out


def test_table_marks_a_claim_without_code(app, synthetic, monkeypatch):
    """The pending path of the table, through entries this test registers without a module."""
    cs.register_pending(monkeypatch, "R4", "R12")
    store, uni, cfg = synthetic
    res = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    out = res.output
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│ R")}
    assert list(rows) == list(CLAIM_IDS)
    for cid in CLAIM_IDS:
        want = "not yet implemented" if cid in {"R4", "R12"} else AI_WINS[cid]
        assert rows[cid].split("│")[3].strip() == want, rows[cid]
    assert "not yet implemented (no verdict given): R4, R12" in out
    assert "R4 insufficient" not in out and "R12 insufficient" not in out  # no rule, no verdict


def test_json_subset_and_as_of(app, synthetic, monkeypatch):
    store, uni, cfg = synthetic
    args = ["claims", "--store", str(store), "--universe", str(uni), "--config", str(cfg),
            "--json", "--claim", "R1,r4", "--claim", "R9", "--as-of", "2023-06-30"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert [c["id"] for c in doc["claims"]] == ["R1", "R4", "R9"]
    assert doc["as_of"] == "2023-06-30"
    assert all(c["status"] == "evaluated" for c in doc["claims"])
    r1, r4, r9 = doc["claims"]
    assert (r1["verdict"], r9["verdict"]) == ("supported", "supported")
    assert r1["window"]["end"] <= "2023-06-30" and r9["window"]["end"] <= "2023-06-30"
    assert r4["verdict"] == "insufficient data" and r4["effect"] is None
    assert "no fomc_cut, qt_taper, qt_end events" in r4["missing"][0] and "2023-06-30" in r4["missing"][0]
    assert r4["window"]["end"] <= "2023-06-30"
    light = runner.invoke(app, ["claims", "--store", str(store), "--universe", str(uni), "--config", str(cfg),
                                "--json", "--no-evidence", "--claim", "R1"])
    assert json.loads(light.output)["claims"][0]["evidence"]["relative_return"]["rows"] > 10
    # a claim registered without code: listed with no verdict
    cs.register_pending(monkeypatch, "R4")
    pending = json.loads(runner.invoke(app, args).output)
    assert [c["id"] for c in pending["claims"]] == ["R1", "R4", "R9"]
    assert pending["claims"][1] == {"id": "R4", "title": r4["title"], "status": "not yet implemented",
                                    "verdict": None}
    assert pending["claims"][0] == r1 and pending["claims"][2] == r9


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
    for cid, c in claims.items():
        assert c["status"] == "evaluated" and c["verdict"] in VERDICTS, cid  # none pending
        # the shared data answers every claim (none needs data it lacks)
        assert c["verdict"] != "insufficient data", (cid, c["missing"])
        assert c["evidence"] and all(f["data"] for f in c["evidence"].values()), cid
        assert c["data"] and c["rule"] and c["window"]["start"] < c["window"]["end"], cid
        assert c["effect"]["value"] is not None and (c["interval"] or c["p_value"] is not None), cid
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
    """A copy of the store holding only rows dated up to the as-of date gives the same ledger.

    Every dated row (observations of all stored symbols - the universe's and the
    S&P 500 members' - and macro series) is cut at the as-of date; the undated
    reference data is copied whole: instrument metadata (sectors mark index
    constituents) and the SP500 membership spells and index changes R5 rebuilds
    the index from. The changes are not cut: prices are stored under each
    member's current ticker, and a later ticker change (Fiserv FI -> FISV,
    2025-11-11) is what maps its 2022 spell to that ticker; cutting it would
    hide stored prices, not later information.
    """
    as_of = "2023-12-31"
    index = load_claims_config().params("R5", claim_module("R5").PARAMS)["index"]
    obs = real_store.read_observations(end=as_of)
    macro = real_store.read_macro(end=as_of)
    spells = real_store.read_membership(index)
    changes = real_store.read_index_changes(index)
    # the S&P members' prices are stored beside the universe's (hundreds of symbols outside it)
    assert len(spells) > 500 and len(set(obs["symbol"]) - set(real_universe.instruments)) > 400
    with Store(tmp_path / "cut.duckdb") as cut:
        for source, part in obs.groupby("source"):
            cut.write_observations(part.drop(columns="source"), source=source)
        for source, part in macro.groupby("source"):
            cut.write_macro(part.drop(columns="source"), source=source)
        for source, part in spells.groupby("source"):
            cut.write_membership(part, index_name=index, source=source)
        for source, part in changes.groupby("source"):
            cut.write_index_changes(part, index_name=index, source=source)
        cut.upsert_instruments(real_store.instruments().drop(columns="updated_at").to_dict("records"))
    with Store(tmp_path / "cut.duckdb", read_only=True) as cut:
        assert cut.read_observations(start="2024-01-01").empty and cut.read_macro(start="2024-01-01").empty
        then = evaluate_claims(cut, real_universe, as_of=as_of)
    now = evaluate_claims(real_store, real_universe, as_of=as_of)
    assert now.pending == () and len(now.verdicts) == 12
    assert now.to_json() == then.to_json()  # all twelve claims, R5 included
    assert all(v.window is not None or v.verdict == "insufficient data" for v in now.verdicts)
    assert all(v.window[1] <= pd.Timestamp(as_of) for v in now.verdicts if v.window is not None)
