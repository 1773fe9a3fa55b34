"""Claims configuration: shipped defaults, precedence, and precise errors (file, line, key)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import claims_synthetic as cs
from rotation.claims import COMMON_PARAMS, default_claims_path, load_claims_config
from rotation.claims._registry import claim_module
from rotation.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "claims.toml"
    p.write_text(text)
    return p


def test_shipped_defaults_load_and_resolve():
    cfg = load_claims_config()
    assert cfg.path == default_claims_path() and cfg.label == "default"
    p = cfg.params("R1", claim_module("R1").PARAMS)
    assert p["ai"] == ["ai_compute", "ai_cloud", "ai_datacenter_power"]
    assert p["start"] == pd.Timestamp("2023-01-01") and p["end"] is None
    assert p["rrg_ratio_window"] == 12 and p["seed"] == 20251121
    r3 = cfg.params("R3", claim_module("R3").PARAMS)
    assert r3["start"] == pd.Timestamp("2018-01-01")  # per-claim override of [defaults]
    assert set(COMMON_PARAMS) <= set(p)


def test_precedence_builtin_then_defaults_then_claim(tmp_path):
    path = _write(tmp_path, """
[defaults]
level = 0.9
start = "2021-06-30"

[claims.R2]
level = 0.99
rolling_weeks = 26
""")
    cfg = load_claims_config(path)
    r2 = cfg.params("R2", claim_module("R2").PARAMS)
    r1 = cfg.params("R1", claim_module("R1").PARAMS)
    assert (r2["level"], r2["rolling_weeks"], r2["start"]) == (0.99, 26, pd.Timestamp("2021-06-30"))
    assert (r1["level"], r1["bootstrap_reps"]) == (0.9, 2000)  # defaults table, then built-in
    assert r2.origins["level"] == "claims.R2.level" and r1.origins["level"] == "defaults.level"
    err = r2.fail("rolling_weeks", "too short")
    assert err.line == 8 and err.key == "claims.R2.rolling_weeks" and str(path) in str(err)


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ("[defaults]\nlevel = 1.5\n", 2, "defaults.level", "must be <= 0.999"),
        ("[defaults]\nseed = \"x\"\n", 2, "defaults.seed", "must be an integer"),
        ("[defaults]\nbootstrap = \"iid\"\n", 2, "defaults.bootstrap", "not one of stationary, circular"),
        ("[defaults]\nstart = \"2023-13-01\"\n", 2, "defaults.start", "must be a date"),
        ("[defaults]\nstart = 2023-01-01T10:00:00\n", 2, "defaults.start", "without a time"),
        ("[defaults]\nai = []\n", 2, "defaults.ai", "non-empty list"),
        ("[defaults]\nai = [\"x\", \"x\"]\n", 2, "defaults.ai", "twice"),
        ("[defaults]\ncolour = \"red\"\n", 2, "defaults.colour", "unknown key 'colour'"),
        ("[defaults]\nblock_length = 0\n", 2, "defaults.block_length", "must be >= 1"),
        ("\n[claims.R13]\nx = 1\n", 2, "claims.R13", "unknown claim 'R13'"),
        ("[claims.R1]\nrrg_tail = 3\nri_window = true\n", 3, "claims.R1.ri_window", "must be an integer"),
        ("[claims.R9]\nmember_coverage = 2\n", 2, "claims.R9.member_coverage", "must be <= 1"),
        ("[colours]\nx = 1\n", 1, "colours", "unknown table"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path, text, line, key, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_claims_config(path)
    err = info.value
    assert (err.line, err.key) == (line, key), str(err)
    assert message in str(err) and str(path) in str(err)


def test_malformed_and_missing_files(tmp_path):
    path = _write(tmp_path, "[defaults]\nlevel = = 3\n")
    with pytest.raises(ConfigError, match="malformed TOML") as info:
        load_claims_config(path)
    assert info.value.line == 2
    with pytest.raises(ConfigError, match="not found"):
        load_claims_config(tmp_path / "nope.toml")


def test_pending_claim_tables_are_kept_as_given(tmp_path, monkeypatch):
    """A claim without code keeps its table as given; once it has code, the same table is validated."""
    text = "[claims.R4]\nevents = \"my_events.csv\"\nhorizon = [5, 20, 60]\n"
    # R4 has code: its keys are checked like any other (horizon is not one of them)
    with pytest.raises(ConfigError, match="unknown key 'horizon'") as info:
        load_claims_config(_write(tmp_path, text))
    assert (info.value.line, info.value.key) == (3, "claims.R4.horizon")
    assert load_claims_config(_write(tmp_path, "[claims.R4]\nevents = \"my_events.csv\"\n")).claims["R4"] == {
        "events": "my_events.csv"}
    # registered without code (pending): kept as given, unknown keys and all, checked once it exists
    cs.register_pending(monkeypatch, "R4")
    cfg = load_claims_config(_write(tmp_path, text))
    assert cfg.claims["R4"] == {"events": "my_events.csv", "horizon": [5, 20, 60]}
    # the claims with code are still checked in the same file
    with pytest.raises(ConfigError, match="unknown key 'horizon'") as info:
        load_claims_config(_write(tmp_path, text + "\n[claims.R5]\nhorizon = 1\n"))
    assert (info.value.line, info.value.key) == (6, "claims.R5.horizon")
