"""Record real entity turns and entity batches from the durabletask SDK.

Runs :mod:`samples.entities` through the SDK's own peers (its in-memory sidecar, its worker and
its client) and captures every orchestration turn (``OrchestratorRequest`` and the
``OrchestratorResponse`` the SDK worker sent) and every entity batch (the ``entityRequestV2``
work item and the ``EntityBatchResult`` the SDK worker sent). Each pair is a golden test.

Script use: ``python -m samples.record_entities [--write]`` prints how many of each it
recorded (and with ``--write`` saves them in ``samples/entity_requests``).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import durabletask.internal.orchestrator_service_pb2 as pb
from durabletask import client as dt_client
from durabletask import worker as dt_worker
from durabletask.entities import EntityInstanceId

from samples import entities as samples
from samples.record import RecordingBackend, _free_port, portable_bytes

STEP_TIMEOUT = 30.0
_QUIET = logging.getLogger("samples.record_entities.sdk")
_QUIET.setLevel(logging.CRITICAL)
_QUIET.propagate = False

EXPECTED_STATUS = {
    "entity_counter": "COMPLETED",
    "entity_account": "COMPLETED",
    "entity_transfer": "COMPLETED",
    "entity_lock_return_inside": "COMPLETED",
    "entity_lock_misuse": "FAILED",
    "entity_failure": "FAILED",
    "entity_delete": "COMPLETED",
    "entity_timed_signal": "COMPLETED",
}


@dataclass(frozen=True)
class TurnRecording:
    """One orchestration turn: the request the SDK worker got and its response."""

    instance_id: str
    request: bytes
    response: bytes


@dataclass(frozen=True)
class BatchRecording:
    """One entity batch: the work item (V2 request) and the SDK worker's result."""

    instance_id: str
    request: bytes
    result: bytes


@dataclass
class EntityRun:
    """What one run recorded, and how each orchestration and the client's entity ended."""

    turns: list[TurnRecording]
    batches: list[BatchRecording]
    final_status: dict[str, str]
    outputs: dict[str, str | None]
    client_entity_state: str | None


class EntityRecordingBackend(RecordingBackend):
    """The recording sidecar, recording entity batches too."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self._entity_lock = threading.Lock()
        self._entity_dispatched: dict[str, tuple[str, bytes]] = {}
        self.batches: list[BatchRecording] = []

    def GetWorkItems(self, request: Any, context: Any) -> Iterator[pb.WorkItem]:  # noqa: N802
        for item in super().GetWorkItems(request, context):
            if item.HasField("entityRequestV2"):
                with self._entity_lock:
                    self._entity_dispatched[item.completionToken] = (
                        item.entityRequestV2.instanceId,
                        item.entityRequestV2.SerializeToString(),
                    )
            yield item

    def CompleteEntityTask(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self._entity_lock:
            found = self._entity_dispatched.pop(request.completionToken, None)
            if found is not None:
                self.batches.append(BatchRecording(found[0], found[1], request.SerializeToString()))
        return super().CompleteEntityTask(request, context)


def _wait_done(client: dt_client.TaskHubGrpcClient, instance_id: str) -> Any:
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        state = client.get_orchestration_state(instance_id)
        if state is not None and state.runtime_status.name in ("COMPLETED", "FAILED"):
            return state
        time.sleep(0.05)
    raise RuntimeError(f"{instance_id}: not finished after {STEP_TIMEOUT:.0f}s")


def drive(client: dt_client.TaskHubGrpcClient, prefix: str = "rec") -> EntityRun:
    """Run every sample orchestration and the client scenario against a served sidecar."""
    ids = {}
    for fn in samples.ORCHESTRATORS:
        iid = f"{prefix}-{fn.__name__}"
        client.schedule_new_orchestration(fn, input=fn.__name__, instance_id=iid)
        ids[fn.__name__] = iid
    entity = EntityInstanceId("counter", f"{prefix}-client")
    for amount in (1, 2):
        client.signal_entity(entity, "add", amount)
    status: dict[str, str] = {}
    outputs: dict[str, str | None] = {}
    for name, iid in ids.items():
        state = _wait_done(client, iid)
        status[name] = state.runtime_status.name
        outputs[name] = state.serialized_output
    deadline = time.monotonic() + STEP_TIMEOUT
    state_text: str | None = None
    while time.monotonic() < deadline:
        meta = client.get_entity(entity, include_state=True)
        state_text = None if meta is None else meta.get_state()
        if state_text == "3":
            break
        time.sleep(0.05)
    return EntityRun([], [], status, outputs, state_text)


def sdk_worker(host: str) -> dt_worker.TaskHubGrpcWorker:
    """The SDK's worker with the samples registered."""
    worker = dt_worker.TaskHubGrpcWorker(host_address=host, logger=_QUIET)
    for fn in samples.ORCHESTRATORS:
        worker.add_orchestrator(fn)
    for entity in samples.ENTITIES:
        worker.add_entity(entity)
    return worker


def record() -> EntityRun:
    """Run the samples under the SDK's worker and return every turn and batch recorded."""
    port = _free_port()
    backend = EntityRecordingBackend(port)
    backend.start()
    host = f"127.0.0.1:{port}"
    worker = sdk_worker(host)
    client = dt_client.TaskHubGrpcClient(host_address=host, logger=_QUIET)
    try:
        worker.start()
        run = drive(client)
    finally:
        worker.stop()
        client.close()
        backend.stop(grace=0)
    run.turns = [TurnRecording(t.instance_id, t.request, t.response) for t in backend.turns]
    run.batches = list(backend.batches)
    return run


DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "entity_requests"


def write(run: EntityRun, out_dir: Path = DEFAULT_OUT_DIR) -> list[str]:
    """Write each turn (``<instance>-turn<N>.b64`` + ``.response.b64``) and each batch (a
    ``WorkItem``: ``<entity>-batch<N>.b64`` + ``.result.b64``); returns the stems written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stems: list[str] = []
    counts: dict[str, int] = {}

    def save(stem: str, request: bytes, answer: bytes, suffix: str) -> None:
        (out_dir / f"{stem}.b64").write_bytes(base64.b64encode(request) + b"\n")
        (out_dir / f"{stem}.{suffix}.b64").write_bytes(base64.b64encode(answer) + b"\n")
        stems.append(stem)

    for turn in run.turns:
        counts[turn.instance_id] = counts.get(turn.instance_id, 0) + 1
        stem = f"{_safe(turn.instance_id)}-turn{counts[turn.instance_id]}"
        request = portable_bytes(turn.request, pb.OrchestratorRequest)
        save(stem, request, portable_bytes(turn.response, pb.OrchestratorResponse), "response")
    for batch in run.batches:
        counts[batch.instance_id] = counts.get(batch.instance_id, 0) + 1
        result = pb.EntityBatchResult.FromString(batch.result)
        item = pb.WorkItem(completionToken=result.completionToken)
        item.entityRequestV2.ParseFromString(batch.request)
        stem = f"{_safe(batch.instance_id)}-batch{counts[batch.instance_id]}"
        request = portable_bytes(item.SerializeToString(), pb.WorkItem)
        save(stem, request, portable_bytes(batch.result, pb.EntityBatchResult), "result")
    (out_dir / "INDEX.json").write_text(json.dumps({"stems": stems}, indent=1) + "\n")
    return stems


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).strip("_")


def main() -> int:
    run = record()
    print(f"{len(run.turns)} turns, {len(run.batches)} batches; {run.final_status}")
    print(f"client entity state: {run.client_entity_state}")
    if "--write" in sys.argv:
        print(f"wrote {len(write(run))} recordings to {DEFAULT_OUT_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
