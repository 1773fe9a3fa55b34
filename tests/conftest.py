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


# --------------------------------------------------------------------------- real data
def _shared_store_path(data_dir: Path) -> Path:
    """A cache file keyed by the data files, the import mapping and the store schema."""
    import hashlib

    from rotation.store import SCHEMA_VERSION

    h = hashlib.sha256(f"schema={SCHEMA_VERSION}".encode())
    for f in sorted(data_dir.rglob("*")):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.relative_to(data_dir)}:{st.st_size}:{int(st.st_mtime)}".encode())
    for code in ("shared_data_imports.py",):
        h.update((Path(__file__).parent / code).read_bytes())
    for mod in ("store/_duckdb.py", "store/_import.py", "sources/files.py"):
        p = REPO / "src" / "rotation" / mod
        if p.exists():
            h.update(p.read_bytes())
    cache = Path(os.environ.get("ROTATION_TEST_CACHE") or REPO / ".pytest_cache" / "rotation")
    cache.mkdir(parents=True, exist_ok=True)
    return cache / f"shared-{h.hexdigest()[:16]}.duckdb"


@pytest.fixture(scope="session")
def real_store(shared_data: Path):
    """Every file of ../shared/data imported as a user would (built once, then opened read-only).

    Built under a file lock so parallel pytest-xdist workers share one build.
    """
    import fcntl

    from rotation.store import Store
    from shared_data_imports import import_shared_data

    path = _shared_store_path(shared_data)
    lock = path.with_suffix(".lock")
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            if not path.exists():
                tmp = path.with_suffix(".building")
                tmp.unlink(missing_ok=True)
                with Store(tmp) as store:
                    import_shared_data(store, shared_data)
                tmp.rename(path)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    store = Store(path, read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="session")
def real_universe():
    from rotation.universe import load_universe

    return load_universe()


@pytest.fixture(scope="session")
def real_panel(real_store, real_universe):
    """Daily NYSE-session panel of the default universe from the real data."""
    from rotation.panel import build_panel

    return build_panel(real_store, real_universe)


@pytest.fixture(scope="session")
def real_weekly_panel(real_store, real_universe):
    from rotation.panel import build_panel

    return build_panel(real_store, real_universe, frequency="W")


@pytest.fixture(scope="session")
def real_macro(real_store, real_universe, real_panel):
    """Macro series as published, aligned on the daily panel's rows (scaled to base units)."""
    from rotation.panel import macro_panel

    return macro_panel(real_store, real_universe, index=real_panel.index)
