"""The durabletask SDK doing what ``inspector replay`` does, as a whole process (the reference).

Reads a base64 ``OrchestratorRequest``, runs the SDK's own executor with every function of
a Python file registered as an orchestrator, and writes the base64 ``OrchestratorResponse``
as the SDK's worker builds it. Used by ``bench/bench_process.py`` only (the executor is
private to the SDK).

    python bench/sdk_replay.py REQUEST APP_FILE OUTPUT
"""

from __future__ import annotations

import base64
import importlib.util
import inspect
import logging
import sys

from durabletask import worker
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.serialization import DEFAULT_DATA_CONVERTER


def main(request_path: str, app_path: str, output_path: str) -> None:
    """Replay the request at ``request_path`` and write the response to ``output_path``."""
    with open(request_path, "rb") as fh:
        request = pb.OrchestratorRequest.FromString(base64.b64decode(fh.read()))
    spec = importlib.util.spec_from_file_location("sdk_bench_app", app_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    registry = worker._Registry()
    for fn in vars(module).values():
        if inspect.isfunction(fn) and fn.__module__ == module.__name__:
            registry.add_orchestrator(fn)
    logger = logging.getLogger("bench.sdk")
    logger.setLevel(logging.WARNING)
    executor = worker._OrchestrationExecutor(registry, logger, DEFAULT_DATA_CONVERTER)
    result = executor.execute(request.instanceId, request.pastEvents, request.newEvents)
    response = pb.OrchestratorResponse(instanceId=request.instanceId, actions=result.actions)
    if result.encoded_custom_status is not None:
        response.customStatus.value = result.encoded_custom_status
    with open(output_path, "wb") as fh:
        fh.write(base64.b64encode(response.SerializeToString()) + b"\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
