"""Helpers for the Dapr tests: the in-memory sidecar behind the Dapr shim, Dapr in a subprocess.

Dapr's packages and the durabletask SDK cannot be loaded in one process (their generated
modules register the same symbols, DAPR.md §3): this pytest process has durabletask loaded, so
everything that needs Dapr's own modules runs in a subprocess (:func:`run_dapr`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from durabletask.testing import InMemoryOrchestrationBackend

from tests.dapr_workflow.shim import DaprShim
from tests.worker.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run_dapr(script: str, *args: str, timeout: float = 120.0) -> Any:
    """Run ``script`` (Python source) in a fresh interpreter with Dapr's packages importable;
    return the JSON it prints last."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"the Dapr subprocess failed ({done.returncode}):\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else None


@pytest.fixture
def dapr_sidecar() -> Iterator[tuple[InMemoryOrchestrationBackend, int, DaprShim]]:
    """The in-memory sidecar on one port and the Dapr shim in front of it on another."""
    port = free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    shim = DaprShim(f"127.0.0.1:{port}").start()
    try:
        yield backend, port, shim
    finally:
        shim.stop()
        backend.stop(grace=None)
