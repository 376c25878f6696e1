"""Compare entity batch results field by field, without wall-clock times and stack traces."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from engine.proto import orchestrator_service_pb2 as pb


def _strip(details: Any) -> None:
    details.ClearField("stackTrace")
    if details.HasField("innerFailure"):
        _strip(details.innerFailure)


def normalized_batch(result: pb.EntityBatchResult | bytes) -> dict[str, Any]:
    """The result as a dict without operation times and stack-trace text."""
    msg = pb.EntityBatchResult()
    if isinstance(result, bytes):
        msg.ParseFromString(result)
    else:
        msg.CopyFrom(result)
    for op in msg.results:
        part = op.success if op.HasField("success") else op.failure
        part.ClearField("startTimeUtc")
        part.ClearField("endTimeUtc")
        if op.HasField("failure"):
            _strip(op.failure.failureDetails)
    return json_format.MessageToDict(msg)
