"""Fixtures shared by the prometheus role's unit tests."""

import os

import pytest


@pytest.fixture(scope="session")
def promtool():
    """The promtool built by tests/platform/binaries.sh (CM_PROMTOOL_BIN, set by scripts/test)."""
    path = os.environ.get("CM_PROMTOOL_BIN", "")
    if not path:
        pytest.fail("CM_PROMTOOL_BIN is not set: it must name the promtool built by tests/platform/binaries.sh")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"CM_PROMTOOL_BIN={path} is not an executable file")
    return path
