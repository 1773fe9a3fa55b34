"""The benchmark suite must keep running: a tiny run of ``python -m benchmarks`` and its JSON schema.

Timings are never asserted here (they depend on the machine); this only
checks that every benchmark reports, in the documented format, and that the
agreement checks between the project's code and its baselines pass.

Marked ``slow``: the tiny run takes ~25-45 s: one HTML report (the report's fixed
cost - regime fits, the claims ledger's bootstraps - does not shrink with the
data) and the API load runs (~10-15 s, most of it starting the server process).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

#: Every benchmark the suite must report (issue 7's five and issue 6's API load runs, with their cases); the report's
#: per-stage rows (``e2e.stage.<name>``) follow the report's own stages and are checked apart.
EXPECTED = {
    "rolling.rrg", "rolling.vol60", "rolling.beta60", "rolling.corr60", "rolling.total",
    "pairwise.corr_matrix", "pairwise.lead_lag", "pairwise.cross_correlation",
    "store.append_day", "store.build_panel",
    "events.event_study",
    "e2e.report", "e2e.report.inprocess", "e2e.claims",
    "api.cached", "api.uncached",
}
#: Cases whose check compares numbers with a baseline (must agree to 1e-9).
CHECKED = {"rolling.rrg", "rolling.vol60", "rolling.beta60", "rolling.corr60",
           "pairwise.corr_matrix", "pairwise.lead_lag", "pairwise.cross_correlation", "store.build_panel",
           "events.event_study"}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    """``python -m benchmarks --profile tiny --repeat 1`` through its ``main()`` (in process: no second start-up)."""
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(REPO))  # `benchmarks` lives at the repository root, outside the package
        mp.chdir(REPO)
        mp.setenv("ROTATION_HOME", str(tmp / "home"))
        for var in ("ROTATION_STORE", "ROTATION_UNIVERSE"):
            mp.delenv(var, raising=False)
        from benchmarks.__main__ import main

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["--profile", "tiny", "--repeat", "1", "--quiet", "--out", str(out),
                         "--cache-dir", str(tmp / "cache")])
    stdout = buf.getvalue()
    assert code == 0, stdout[-3000:]
    return json.loads(out.read_text()), stdout


def test_every_benchmark_reports(tiny_run) -> None:
    from benchmarks._harness import RESULT_KEYS, STATUSES

    doc, _ = tiny_run
    names = [r["name"] for r in doc["results"]]
    stages = {n for n in names if n.startswith("e2e.stage.")}
    assert set(names) - stages == EXPECTED, (set(names) - stages) ^ EXPECTED
    assert {"e2e.stage.panel", "e2e.stage.render"} <= stages and len(stages) >= 3, stages
    assert len(names) == len(set(names))
    assert {"latency", "baseline_latency"} <= set(RESULT_KEYS)
    for r in doc["results"]:
        assert set(RESULT_KEYS) <= set(r), r["name"]
        assert r["status"] in STATUSES
        assert r["status"] != "error", (r["name"], r["notes"])
        if r["status"] == "ok":
            assert r["time_median"] is not None and r["time_median"] >= 0
            assert r["repeats"] >= 1 and len(r["times"]) == r["repeats"]
        if r["baseline_time"] is not None:
            assert r["ratio"] == pytest.approx(r["baseline_time"] / r["time_median"])
    by = {r["name"]: r for r in doc["results"]}
    assert by["e2e.report"]["status"] == "skipped"  # the tiny profile leaves the CLI start-up out
    assert by["e2e.report.inprocess"]["status"] == "ok"
    for name, total in (("events.event_study", None), ("e2e.claims", 12)):
        # "not_implemented" until the code exists; then it must run (and the ledger lists R1-R12)
        assert by[name]["status"] in {"ok", "not_implemented"}, name
        if by[name]["status"] == "ok" and total is not None:
            assert by[name]["check"]["claims"] == total
    assert by["rolling.vol60"]["peak_mb"] is not None and by["rolling.vol60"]["target"] != "-"


def test_api_load_runs(tiny_run) -> None:
    """The load runs: zero errors, latency statistics, and the cache behaving as each mix intends."""
    doc, stdout = tiny_run
    by = {r["name"]: r for r in doc["results"]}
    for name, hit_rate in (("api.cached", 1.0), ("api.uncached", 0.0)):
        r = by[name]
        assert r["status"] == "ok", (name, r["notes"])
        assert r["check"]["errors"] == 0 and r["met"] is True and r["target"] == "0 errors", (name, r["check"])
        lat, base = r["latency"], r["baseline_latency"]
        for stats in (lat, base):
            assert stats["errors"] == 0 and stats["statuses"] == {"200": stats["requests"]}, (name, stats)
            assert 0 < stats["p50_ms"] <= stats["p90_ms"] <= stats["p99_ms"] <= stats["max_ms"], (name, stats)
            assert stats["throughput_rps"] > 0 and stats["concurrency"] == 20
        assert base["requests"] == lat["requests"] and r["time_median"] == pytest.approx(lat["p50_ms"] / 1e3)
        # the server's counters and its X-Cache headers tell the same story
        assert lat["hit_rate"] == hit_rate and r["check"]["cache_counters_match_headers"], (name, lat)
        assert "p99" in " ".join(r["notes"]) and f"{name}" in stdout
    assert by["api.uncached"]["latency"]["distinct"] == by["api.uncached"]["latency"]["requests"]
    # other rows carry no load statistics
    assert by["rolling.vol60"]["latency"] is None and by["rolling.vol60"]["baseline_latency"] is None


def test_project_code_agrees_with_baselines(tiny_run) -> None:
    doc, _ = tiny_run
    by = {r["name"]: r for r in doc["results"]}
    for name in CHECKED:
        if by[name]["status"] == "not_implemented":
            continue
        check = by[name]["check"]
        assert check["passed"], (name, check)
        assert check["nan_mismatch"] == 0 and check["max_rel_err"] <= 1e-9, (name, check)


def test_json_header_and_table(tiny_run) -> None:
    doc, stdout = tiny_run
    assert doc["schema_version"] == 1 and doc["profile"] == "tiny"
    machine = doc["machine"]
    for key in ("cpu_count", "python", "numpy", "pandas", "duckdb", "date"):
        assert machine.get(key), key
    assert "rotation benchmarks" in stdout and "rolling.vol60" in stdout


def test_cli_rejects_bad_arguments() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--repeat", "0"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--repeat" in proc.stderr
