"""The benchmark's floor workers (``bench/bench_worker.py --floor``) do the benchmark's work.

They answer ``fan_out_fan_in`` with canned answers; a floor that answered less (no activity
run, a wrong output) would make the ceiling it measures meaningless, so each must complete
the orchestrations with the output the sample's orchestrator gives.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from durabletask import client as dt_client

from bench import bench_worker
from samples import orchestrations as samples
from tests.worker.conftest import QUIET, ROOT, start_sidecar

EXPECTED = {"squares": [1, 4, 9, 16, 25], "sum": 55}
"""What ``fan_out_fan_in`` returns for an input of 5 (the squares of 1..5 and their sum)."""


@pytest.mark.parametrize("kind", ["floor", "floor-pipes"])
def test_floor_worker_completes_fan_outs_with_the_samples_output(kind: str) -> None:
    backend, port = start_sidecar()
    address = f"127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(bench_worker._worker_command(kind, address), cwd=ROOT, env=env)
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
    try:
        ids = [client.schedule_new_orchestration(samples.fan_out_fan_in, input=5) for _ in range(3)]
        for iid in ids:
            state = client.wait_for_orchestration_completion(iid, timeout=60)
            assert state is not None
            assert state.runtime_status == dt_client.OrchestrationStatus.COMPLETED
            assert json.loads(state.serialized_output or "null") == EXPECTED
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        backend.stop(grace=0)
