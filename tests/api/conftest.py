"""Synthetic store + universe for the API tests (4 years of random walks, caps on every instrument)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")


from api_synthetic import UNIVERSE, write_synthetic  # noqa: E402,F401  (re-exported for fixtures)


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("api")
    uni = root / "universe.toml"
    uni.write_text(UNIVERSE)
    path = root / "store.duckdb"
    write_synthetic(path)
    return path, uni


@pytest.fixture(scope="session")
def client(synthetic):
    from fastapi.testclient import TestClient

    from rotation.api import create_app

    path, uni = synthetic
    with TestClient(create_app(path, uni)) as c:
        yield c
