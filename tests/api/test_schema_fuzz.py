"""Property-based run of the OpenAPI spec (schemathesis): no generated request gives a 5xx.

The app is built at import time on its own synthetic store, because
``schemathesis.pytest.from_fixture`` does not work with this pytest version.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
from api_synthetic import UNIVERSE, write_synthetic  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from rotation.api import create_app  # noqa: E402

_root = Path(tempfile.mkdtemp(prefix="rotation-api-fuzz-"))
atexit.register(shutil.rmtree, _root, ignore_errors=True)
(_root / "universe.toml").write_text(UNIVERSE)
write_synthetic(_root / "store.duckdb")
_app = create_app(_root / "store.duckdb", _root / "universe.toml")
atexit.register(lambda: _app.state.rotation.store.close())  # before the rmtree (atexit is LIFO)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_server_errors(case):
    response = case.call()
    # call_and_validate would also enforce response-schema conformance; the contract here is "never a 5xx"
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
