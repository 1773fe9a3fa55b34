"""``import rotation`` stays cheap: the heavy libraries load only when a command or function uses them.

Each check runs in a fresh interpreter (``sys.modules`` of this test process already holds everything).
No timing is asserted: what is checked is *which* modules an import pulls in.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Libraries that cost 0.3-2 s to import and that ``import rotation`` / ``rotation --help`` never need.
HEAVY = ("statsmodels", "plotly", "numba", "fastapi", "uvicorn", "scipy", "arch", "ruptures", "matplotlib",
         "exchange_calendars", "jinja2")


def _loaded_after(code: str) -> set[str]:
    """Top-level package names in ``sys.modules`` after running ``code`` in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("code", ["import rotation", "import rotation.analytics",
                                  "import rotation.cli"])
def test_import_does_not_load_heavy_libraries(code):
    loaded = _loaded_after(code)
    assert not loaded & set(HEAVY), f"{code!r} imported {sorted(loaded & set(HEAVY))}"


def test_cli_help_does_not_load_heavy_libraries():
    code = ("import sys\nfrom rotation.cli import app\nsys.argv = ['rotation', '--help']\n"
            "try:\n    app()\nexcept SystemExit:\n    pass")
    loaded = _loaded_after(code)
    assert not loaded & set(HEAVY), f"rotation --help imported {sorted(loaded & set(HEAVY))}"


def test_every_public_name_resolves_and_is_the_defining_object():
    # in a fresh interpreter, so that the lazy path (not an already-imported module) is what is tested
    code = """
import importlib, json
import rotation, rotation.analytics as A
bad = [n for n in rotation.__all__ if getattr(rotation, n, None) is None]
bad += ["analytics." + n for n in A.__all__ if getattr(A, n, None) is None]
# the same objects as the defining modules (not copies), and `from ... import` works too
from rotation import Store, rrg, regimes, evaluate_claims
from rotation.analytics import rolling_beta, QUADRANTS
same = (Store is importlib.import_module("rotation.store").Store
        and rrg is importlib.import_module("rotation.analytics.rrg").rrg
        and regimes is importlib.import_module("rotation.analytics.regimes").regimes
        and evaluate_claims is importlib.import_module("rotation.claims").evaluate_claims
        and rolling_beta is importlib.import_module("rotation.analytics.comovement").rolling_beta
        and QUADRANTS is importlib.import_module("rotation.analytics.rrg").QUADRANTS)
# modules stay modules: rotation.analytics.rrg is the module, rotation.rrg the function
kinds = [type(A.rrg).__name__, type(A.regimes).__name__, type(rotation.rrg).__name__, type(rotation.config).__name__]
print(json.dumps({"bad": bad, "same": same, "kinds": kinds, "dir": sorted(set(rotation.__all__) - set(dir(rotation)))}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["bad"] == []
    assert res["same"] is True
    assert res["kinds"] == ["module", "module", "function", "module"]
    assert res["dir"] == []


def test_unknown_attribute_is_an_attribute_error():
    import rotation
    import rotation.analytics

    with pytest.raises(AttributeError, match="no_such_name"):
        rotation.no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match="no_such_name"):
        rotation.analytics.no_such_name  # noqa: B018
    assert not hasattr(rotation, "no_such_name")


def test_cli_help_does_not_open_duckdb_or_the_store_modules():
    # the store (duckdb, the fetch machinery) loads when a command opens it, not to list the commands
    code = ("import sys\nfrom rotation.cli import app\nsys.argv = ['rotation', '--help']\n"
            "try:\n    app()\nexcept SystemExit:\n    pass")
    probe = f"{code}\nimport json\nprint(json.dumps(sorted(m for m in sys.modules if m == 'duckdb' or m.startswith(('duckdb.', 'rotation.store')))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
