"""An app's own data converter (``TaskHubGrpcWorker(data_converter=...)``) decides every payload.

Side by side on the SDK's in-memory sidecar: the SDK's worker built by the app, and
``inspector worker --app samples.converter_worker:worker``, driven by the SDK's client with the
same converter. Then every recorded turn replays to the SDK's response and to the SDK executor's
built with the same converter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from appopts_support import (
    QUIET,
    WorkerProcess,
    drive,
    free_port,
    keep_sys_path,  # noqa: F401 - autouse: restores sys.path after each test
)
from durabletask import worker as dt_worker
from durabletask.internal import orchestrator_service_pb2 as sdk_pb
from durabletask.testing import InMemoryOrchestrationBackend
from replay_compare import normalized, parse_response

from engine.app_loader import load_app
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from engine.session import replay_request
from samples import converter_worker
from samples.record import RecordingBackend

APP = "samples.converter_worker:worker"
CONVERTER = converter_worker.TaggedConverter()
STARTS: dict[str, tuple[str, Any]] = {
    "invoice-1": ("invoice", {"item": "tea", "qty": Decimal("1.5")}),
    "invoice-2": ("invoice", {"item": "rice", "qty": Decimal("4")}),
}


@pytest.fixture(scope="module")
def sdk_run() -> Iterator[tuple[dict[str, Any], RecordingBackend]]:
    port = free_port()
    backend = RecordingBackend(port)
    backend.start()
    w = converter_worker.build_worker(f"127.0.0.1:{port}")
    w._logger = QUIET
    try:
        w.start()
        yield drive(port, STARTS, CONVERTER), backend
    finally:
        w.stop()
        backend.stop(grace=0)


def test_every_instance_ends_as_under_the_sdk_worker(
    sdk_run: tuple[dict[str, Any], RecordingBackend], tmp_path: Path
) -> None:
    theirs, _ = sdk_run
    assert theirs["invoice-1"][0] == "COMPLETED"
    assert '{"$decimal": "3.400"}' in theirs["invoice-1"][1]  # 1.5 * 2.10 + 0.25
    port = free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    worker = WorkerProcess(f"127.0.0.1:{port}", APP, log=tmp_path / "worker.log")
    try:
        ours = drive(port, STARTS, CONVERTER)
    finally:
        worker.stop()
        backend.stop(grace=0)
    assert _without_clock(ours) == _without_clock(theirs)


def _without_clock(final: dict[str, Any]) -> dict[str, Any]:
    """The outcomes with the orchestration's clock (it differs per run) checked and left out."""
    out = {}
    for iid, (status, output, custom, failure) in final.items():
        value = json.loads(output)
        assert set(value.pop("at")) == {"$datetime"}  # a datetime, encoded by the converter
        out[iid] = (status, value, custom, failure)
    return out


def _executor_response(request: pb.OrchestratorRequest) -> pb.OrchestratorResponse:
    registry = dt_worker._Registry()
    registry.add_orchestrator(converter_worker.invoice)
    logger = logging.getLogger("tests.appopts.executor")
    logger.disabled = True
    executor = dt_worker._OrchestrationExecutor(registry, logger, CONVERTER)
    theirs = sdk_pb.OrchestratorRequest.FromString(request.SerializeToString())
    result = executor.execute(theirs.instanceId, theirs.pastEvents, theirs.newEvents)
    msg = sdk_pb.OrchestratorResponse(instanceId=theirs.instanceId, actions=result.actions)
    if result.encoded_custom_status is not None:
        msg.customStatus.value = result.encoded_custom_status
    return parse_response(msg.SerializeToString())


def test_recorded_turns_replay_to_the_sdk_responses(
    sdk_run: tuple[dict[str, Any], RecordingBackend],
) -> None:
    _, backend = sdk_run
    app = load_app(APP)
    plain = load_app("samples.converter_worker")
    assert len(backend.turns) >= 4
    plain_differs = 0
    for turn in backend.turns:
        request = pb.OrchestratorRequest.FromString(turn.request)
        loaded = OrchestrationRequest.from_proto(request)
        ours = replay_request(loaded, app)
        recorded = normalized(parse_response(turn.response))
        assert normalized(ours.response) == recorded == normalized(_executor_response(request))
        plain_differs += normalized(replay_request(loaded, plain).response) != recorded
    assert plain_differs >= 2  # the default converter gives other responses: the test can fail
