"""Property-based run of the OpenAPI spec (schemathesis): no generated request gives a 5xx, and every response
conforms to the spec: a declared status code, the declared content type and headers, and a body valid for the
declared schema (the typed 200 models and the ``{detail, parameter}`` errors).

The app is built at import time on its own synthetic store (every data kind, so that generated requests
with default parameters reach 200s of every endpoint), because ``schemathesis.pytest.from_fixture`` does not
work with this pytest version.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")
from api_synthetic import FULL_UNIVERSE, write_full  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rotation.api import create_app  # noqa: E402

_root = Path(tempfile.mkdtemp(prefix="rotation-api-fuzz-"))
atexit.register(shutil.rmtree, _root, ignore_errors=True)
(_root / "universe.toml").write_text(FULL_UNIVERSE)
write_full(_root / "store.duckdb")
_app = create_app(_root / "store.duckdb", _root / "universe.toml")
atexit.register(lambda: _app.state.rotation.store.close())  # before the rmtree (atexit is LIFO)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)

#: The response checks. Not the data-acceptance checks (positive_data_acceptance, negative_data_rejection):
#: a schema-valid string such as an unknown basket name is rightly a 422 here.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_responses_conform(case):
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    assert response.status_code < 500, response.text
