"""The tap's pilot tests run as the live ones do (``async def`` tests on a fresh loop)."""

from tests.live.conftest import pytest_pyfunc_call as pytest_pyfunc_call
