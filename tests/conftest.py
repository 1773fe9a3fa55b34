"""Shared test fixtures.

Real-data tests read ``../shared/data`` (next to the repository) or the folder
named by ``ROTATION_SHARED_DATA``; they are skipped cleanly when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_data_dir() -> Path:
    """The real-data folder: $ROTATION_SHARED_DATA, else ../shared/data beside the repo."""
    return Path(os.environ.get("ROTATION_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not (path / "SOURCES.md").exists():
        pytest.skip(f"real data not found at {path} (set ROTATION_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a test read or write the user's real store or universe."""
    home = tmp_path_factory.mktemp("rotation-home")
    monkeypatch.setenv("ROTATION_HOME", str(home))
    monkeypatch.delenv("ROTATION_STORE", raising=False)
    monkeypatch.delenv("ROTATION_UNIVERSE", raising=False)
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    monkeypatch.delenv("COINGECKO_API_KEY", raising=False)
    monkeypatch.delenv("COINGECKO_PRO_API_KEY", raising=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("ROTATION_LIVE") == "1":
        return
    skip_live = pytest.mark.skip(reason="live provider test: set ROTATION_LIVE=1 (needs network)")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip_live)
