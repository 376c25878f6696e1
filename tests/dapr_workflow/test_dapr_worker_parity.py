"""The same scenarios under Dapr's own runtime and under ``inspector worker --dialect dapr``.

Both serve ``samples/dapr_workflows.py`` (unmodified) through the Dapr shim (the SDK's
in-memory sidecar behind Dapr's dialect: no daprd can run here), each against a fresh sidecar;
every scenario (activities, timers, event waits with and without timeout, ``when_all`` /
``when_any``, child workflows, retries, failures, continue-as-new with carried events, a
cross-app call, a patch, a versioned workflow) must end in the same state: status, output and
failure message.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.dapr_workflow.served import INSPECTOR, RUNTIME, SCENARIOS, serve


@pytest.fixture(scope="module")
def daprs() -> dict[str, Any]:
    with serve(RUNTIME) as (_, states):
        return states


def test_our_worker_ends_every_scenario_as_daprs_runtime(daprs: dict[str, Any]) -> None:
    with serve(INSPECTOR) as (shim, ours):
        assert "GetWorkItems" in shim.seen
    assert {name for name, *_ in SCENARIOS} == set(ours) == set(daprs)
    for name in ours:
        assert ours[name] == daprs[name], name
    assert {s[0] for s in ours.values()} == {"COMPLETED", "FAILED"}
