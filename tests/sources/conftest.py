"""Network-source tests: the shared scaffolding lives in ``source_test_helpers.py``.

Registered here (before any test module imports it) so that the checks of
``source_test_helpers.FailureModes`` get pytest's assertion rewriting: a failure shows
the compared values, as in a test module.
"""

import pytest

pytest.register_assert_rewrite("source_test_helpers")
