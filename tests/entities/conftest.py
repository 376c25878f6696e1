"""Entity tests import ``factories`` and ``replay_compare`` from the tests folder."""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent.parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from tests.tui.conftest import pytest_pyfunc_call  # noqa: E402,F401 - async tests, as in the TUI's
