"""``--app MODULE:ATTR``: an app that builds its ``TaskHubGrpcWorker`` with options.

The same app runs side by side under the SDK's own worker (built by the app's function) and
under ``inspector worker --app samples.configured_worker:worker``, each on its own in-memory
sidecar of the SDK, driven by the SDK's client; every instance must end the same way, failure
properties included. Every turn the SDK's worker served is then replayed by us with the app's
options and compared with the SDK's response and with the SDK executor built with the same
options.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
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
from durabletask.serialization import DEFAULT_DATA_CONVERTER
from durabletask.testing import InMemoryOrchestrationBackend
from replay_compare import normalized, parse_response

from engine.app_loader import load_app
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from engine.session import replay_request
from samples import configured_worker
from samples.record import RecordingBackend

APP = "samples.configured_worker:worker"
STARTS: dict[str, tuple[str, Any]] = {
    "order-tea": ("order", "tea"),
    "order-gold": ("order", "gold"),
    "fail-gold": ("order_or_fail", "gold"),
    "fail-tea": ("order_or_fail", "tea"),
    "nap": ("nap", None),
}


@pytest.fixture(scope="module")
def sdk_run() -> Iterator[tuple[dict[str, Any], RecordingBackend]]:
    port = free_port()
    backend = RecordingBackend(port)
    backend.start()
    w = configured_worker.build_worker(f"127.0.0.1:{port}")
    w._logger = QUIET  # the SDK logs every failed activity at warning level
    try:
        w.start()
        yield drive(port, STARTS), backend
    finally:
        w.stop()
        backend.stop(grace=0)


@pytest.fixture(scope="module")
def our_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    port = free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    worker = WorkerProcess(
        f"127.0.0.1:{port}", APP, "--max-orchestrations", "2", "--max-activities", "2", log=log
    )
    try:
        return drive(port, STARTS)
    finally:
        worker.stop()
        backend.stop(grace=0)


def test_every_instance_ends_as_under_the_sdk_worker(
    sdk_run: tuple[dict[str, Any], RecordingBackend], our_run: dict[str, Any]
) -> None:
    theirs, _ = sdk_run
    assert our_run == theirs


def test_the_options_show_in_the_outcomes(sdk_run: tuple[dict[str, Any], RecordingBackend]) -> None:
    """The comparison above is not vacuous: the provider's properties and the factory-made
    activity's registered name are in what the SDK's worker produced."""
    theirs, backend = sdk_run
    status, _, _, failure = theirs["fail-gold"]
    assert status == "FAILED"
    assert failure[0] == "samples.configured_worker.OutOfStock"
    assert failure[2] == {"error_code": 52.0}
    status, _, _, failure = theirs["order-gold"]
    assert status == "FAILED" and failure[3][2] == {"error_code": 51.0}
    assert theirs["order-tea"] == ("COMPLETED", '"reserved tea; restocked tea"', None, None)
    naps = [t for t in backend.turns if t.instance_id == "nap"]
    assert len(naps) >= 4  # one turn per 1-second chunk of the 3-second timer


def _sdk_executor(options: Any) -> Any:
    registry = dt_worker._Registry()
    for name, fn in load_app(APP).functions.items():
        if name in {"order", "order_or_fail", "nap"}:
            registry.add_named_orchestrator(name, fn)
    logger = logging.getLogger("tests.appopts.executor")
    logger.disabled = True
    return dt_worker._OrchestrationExecutor(
        registry,
        logger,
        DEFAULT_DATA_CONVERTER,
        maximum_timer_interval=options.maximum_timer_interval,
        exception_properties_provider=options.exception_properties_provider,
    )


def _executor_response(options: Any, request: pb.OrchestratorRequest) -> pb.OrchestratorResponse:
    theirs = sdk_pb.OrchestratorRequest.FromString(request.SerializeToString())
    result = _sdk_executor(options).execute(theirs.instanceId, theirs.pastEvents, theirs.newEvents)
    msg = sdk_pb.OrchestratorResponse(instanceId=theirs.instanceId, actions=result.actions)
    if result.encoded_custom_status is not None:
        msg.customStatus.value = result.encoded_custom_status
    return parse_response(msg.SerializeToString())


def test_recorded_turns_replay_to_the_sdk_responses(
    sdk_run: tuple[dict[str, Any], RecordingBackend],
) -> None:
    _, backend = sdk_run
    app = load_app(APP)
    interval = app.options.maximum_timer_interval
    assert len(backend.turns) >= 10
    for turn in backend.turns:
        request = pb.OrchestratorRequest.FromString(turn.request)
        ours = replay_request(
            OrchestrationRequest.from_proto(request), app, maximum_timer_interval=interval
        )
        recorded = normalized(parse_response(turn.response))
        executor = normalized(_executor_response(app.options, request))
        assert normalized(ours.response) == recorded == executor, turn.instance_id


def test_a_plain_load_of_the_same_module_differs(
    sdk_run: tuple[dict[str, Any], RecordingBackend],
) -> None:
    """Without ``:worker`` the app's options are not taken, and the responses show it."""
    _, backend = sdk_run
    plain = load_app("samples.configured_worker")
    assert not plain.options.configured
    differs = 0
    for turn in backend.turns:
        if turn.instance_id not in {"nap", "fail-gold"}:
            continue
        request = pb.OrchestratorRequest.FromString(turn.request)
        ours = replay_request(
            OrchestrationRequest.from_proto(request),
            plain,
            maximum_timer_interval=plain.options.maximum_timer_interval,
        )
        differs += normalized(ours.response) != normalized(parse_response(turn.response))
    assert differs >= 2


def test_the_recorded_turns_include_the_worker_app_paths(tmp_path: Path) -> None:
    app = load_app("samples/configured_worker.py:build_worker")
    assert app.module.__name__ == "configured_worker"
    assert set(app.functions) == {"order", "order_or_fail", "nap", "reserve", "restock_item"}
    assert "restock" not in app.functions  # the variable name is not the registered name
