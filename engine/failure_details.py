"""A task or orchestration failure, the one event payload the replay itself needs.

Kept apart from :mod:`engine.events` so that a headless replay, which builds failures but no
event dataclasses, imports only this one (:mod:`engine.events` and :mod:`engine.history`
re-export it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.proto import orchestrator_service_pb2 as pb


@dataclass(frozen=True, slots=True)
class FailureDetails:
    """A task or orchestration failure, as ``TaskFailureDetails`` carries it."""

    error_type: str
    message: str
    stack_trace: str | None = None
    inner: FailureDetails | None = None
    non_retriable: bool = False
    properties: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_proto(cls, msg: Any) -> FailureDetails:
        """Build from a ``TaskFailureDetails`` message (ours or any wire-compatible one)."""
        return cls(
            error_type=msg.errorType,
            message=msg.errorMessage,
            stack_trace=msg.stackTrace.value if msg.HasField("stackTrace") else None,
            inner=cls.from_proto(msg.innerFailure) if msg.HasField("innerFailure") else None,
            non_retriable=msg.isNonRetriable,
            properties=_properties(msg.properties),
        )

    def to_proto(self) -> pb.TaskFailureDetails:
        """Build the ``TaskFailureDetails`` message."""
        msg = pb.TaskFailureDetails(
            errorType=self.error_type,
            errorMessage=self.message,
            isNonRetriable=self.non_retriable,
        )
        if self.stack_trace is not None:
            msg.stackTrace.value = self.stack_trace
        if self.inner is not None:
            msg.innerFailure.CopyFrom(self.inner.to_proto())
        if self.properties:
            from google.protobuf import json_format  # loaded only for failures that carry some

            for key, value in self.properties.items():
                json_format.ParseDict(value, msg.properties[key])
        return msg


def _properties(found: Any) -> dict[str, Any]:
    """A ``properties`` map as plain values (``google.protobuf.Value`` mapped as JSON is)."""
    if not found:
        return {}
    from google.protobuf import json_format

    from engine.maps import sorted_json

    # In key order, at every depth: a map's own order changes between runs.
    return {k: sorted_json(json_format.MessageToDict(found[k])) for k in sorted(found)}
