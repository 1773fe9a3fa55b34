"""The public API: curated names resolve, errors form one hierarchy, the CLI lists every command."""

from __future__ import annotations

import inspect

import rotation as rt
import rotation.analytics as analytics
from rotation.cli import app


def test_public_names_resolve() -> None:
    for module in (rt, analytics):
        missing = [n for n in module.__all__ if not hasattr(module, n)]
        assert not missing, (module.__name__, missing)
        assert len(set(module.__all__)) == len(module.__all__)


def test_every_error_is_a_rotation_error() -> None:
    errors = [getattr(rt, n) for n in rt.__all__ if n.endswith("Error")]
    assert len(errors) >= 13
    for cls in errors:
        assert issubclass(cls, rt.RotationError), cls
    assert issubclass(rt.ParameterError, ValueError)
    assert issubclass(rt.ConnectionFailedError, rt.ProviderUnavailableError)


def test_analytics_functions_have_numpydoc() -> None:
    for name in analytics.__all__:
        obj = getattr(analytics, name)
        if inspect.isfunction(obj):
            doc = inspect.getdoc(obj) or ""
            assert doc and len(doc) > 40, name


def test_cli_has_every_command() -> None:
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert {"fetch", "import", "status", "check", "report", "rrg", "flows", "macro"} <= names
