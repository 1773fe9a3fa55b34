"""Checks of a response body against the API contract: the declared pydantic model and the generated OpenAPI schema.

Used by the synthetic-store tests (``test_response_schemas.py``) and the real-store tests
(``test_real_data.py``): a body must validate against both, so the models, the spec and what the
endpoints write cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

jsonschema_rs = pytest.importorskip("jsonschema_rs")  # comes with schemathesis (the test extra)

V = "/api/v1"


def response_schema(spec: dict[str, Any], method: str, path: str, status: int = 200) -> dict[str, Any]:
    """The JSON schema of ``status`` responses of ``method path``, with the spec's components to resolve refs."""
    schema = spec["paths"][path][method.lower()]["responses"][str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


#: (id(spec), method, path, status) -> (spec, validator); the spec is kept so its id is not reused.
_VALIDATORS: dict[tuple[int, str, str, int], tuple[dict[str, Any], Any]] = {}


def schema_errors(spec: dict[str, Any], method: str, path: str, body: Any, status: int = 200) -> list[str]:
    """Messages of every violation of the declared response schema (empty when the body conforms)."""
    key = (id(spec), method.lower(), path, status)
    if key not in _VALIDATORS:
        _VALIDATORS[key] = (spec, jsonschema_rs.Draft202012Validator(response_schema(spec, method, path, status)))
    validator = _VALIDATORS[key][1]
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(body)]


def declared_model(spec: dict[str, Any], method: str, path: str, status: int = 200) -> str:
    """Name of the component schema the spec declares for the response (its ``$ref``)."""
    schema = spec["paths"][path][method.lower()]["responses"][str(status)]["content"]["application/json"]["schema"]
    return schema["$ref"].rsplit("/", 1)[-1]


def assert_conforms(spec: dict[str, Any], method: str, path: str, response: Any, model: type[BaseModel]) -> Any:
    """``response`` has the declared status' body: valid for ``model`` (strict) and for the spec's schema.

    Returns the parsed body.
    """
    status = response.status_code
    body = response.json()
    assert declared_model(spec, method, path, status) == model.__name__, (method, path, status)
    errors = schema_errors(spec, method, path, body, status)
    assert not errors, (method, path, errors[:5])
    model.model_validate(body, strict=True)
    return body
