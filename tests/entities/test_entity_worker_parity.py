"""Entities end the same under ``inspector worker`` as under the SDK's worker, side by side.

Each worker serves its own in-memory sidecar, both driven by the SDK's client through the same
driver (:func:`samples.record_entities.drive`): the SDK's entity examples (function entity,
class entity, locking, signal from the client, delete) and the failure paths.
"""

from __future__ import annotations

from pathlib import Path

from durabletask import client as dt_client
from worker_helpers import QUIET, WorkerProcess, start_sidecar

from samples.record_entities import EXPECTED_STATUS, EntityRun, drive, sdk_worker


def _sdk_run() -> EntityRun:
    backend, port = start_sidecar()
    worker = sdk_worker(f"127.0.0.1:{port}")
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        worker.start()
        return drive(client, "par")
    finally:
        worker.stop()
        client.close()
        backend.stop(grace=0)


def _our_run(log: Path) -> tuple[EntityRun, str]:
    backend, port = start_sidecar()
    worker = WorkerProcess(f"127.0.0.1:{port}", "samples.entities", log=log)
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        worker.wait_for("connected")
        run = drive(client, "par")
        worker.terminate()
        return run, worker.output()
    finally:
        worker.stop()
        client.close()
        backend.stop(grace=0)


def _outputs(run: EntityRun) -> dict[str, str | None]:
    # entity_timed_signal returns a new_uuid(), which depends on the replay clock: drop it.
    out = dict(run.outputs)
    out["entity_timed_signal"] = (out["entity_timed_signal"] or "").split(",")[0]
    return out


def test_entities_end_the_same_under_our_worker_and_the_sdk_worker(tmp_path: Path) -> None:
    theirs = _sdk_run()
    ours, log = _our_run(tmp_path / "worker.log")
    assert theirs.final_status == EXPECTED_STATUS
    assert ours.final_status == theirs.final_status
    assert _outputs(ours) == _outputs(theirs)
    assert ours.client_entity_state == theirs.client_entity_state == "3"
    assert log.lower().count("abandon") == 1, log  # only the summary's "0 abandoned"
    assert "0 abandoned, 0 undelivered" in log
    assert " entity " in log
