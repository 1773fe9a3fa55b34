"""The benchmark suite must keep running: a tiny run of ``python -m benchmarks`` and its JSON schema.

Timings are never asserted here (they depend on the machine); this only
checks that every benchmark reports, in the documented format, and that the
agreement checks between the project's code and its baselines pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Every benchmark the suite must report (issue 7's five, with their cases).
EXPECTED = {
    "rolling.rrg", "rolling.vol60", "rolling.beta60", "rolling.corr60", "rolling.total",
    "pairwise.corr_matrix", "pairwise.lead_lag", "pairwise.cross_correlation",
    "store.append_day", "store.build_panel",
    "events.event_study",
    "e2e.report", "e2e.report.inprocess", "e2e.report.panel", "e2e.report.analytics", "e2e.report.render",
    "e2e.claims",
}
#: Cases whose check compares numbers with a baseline (must agree to 1e-9).
CHECKED = {"rolling.rrg", "rolling.vol60", "rolling.beta60", "rolling.corr60",
           "pairwise.corr_matrix", "pairwise.lead_lag", "pairwise.cross_correlation", "store.build_panel"}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    env = {**os.environ, "ROTATION_HOME": str(tmp / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--profile", "tiny", "--repeat", "1", "--quiet",
         "--out", str(out), "--cache-dir", str(tmp / "cache")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_every_benchmark_reports(tiny_run) -> None:
    from benchmarks._harness import RESULT_KEYS, STATUSES

    doc, _ = tiny_run
    names = [r["name"] for r in doc["results"]]
    assert set(names) == EXPECTED, set(names) ^ EXPECTED
    assert len(names) == len(set(names))
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
    assert by["events.event_study"]["status"] == "not_implemented"
    assert by["e2e.claims"]["status"] == "not_implemented"
    assert by["rolling.vol60"]["peak_mb"] is not None and by["rolling.vol60"]["target"] != "-"


def test_project_code_agrees_with_baselines(tiny_run) -> None:
    doc, _ = tiny_run
    by = {r["name"]: r for r in doc["results"]}
    for name in CHECKED:
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
