"""Typed gRPC client for the Durable Task sidecar (``TaskHubSidecarService``).

The sidecar's service has no protobuf package, so its methods live at
``/TaskHubSidecarService/<Method>``. Our generated messages do have a package
(``durableinspector``) and no service, so this module builds each call by its wire path with
``channel.unary_unary`` / ``channel.unary_stream`` and our messages' ``SerializeToString`` /
``FromString``. The bytes on the wire are identical to the SDK's. This is the one place that
names the RPCs: the worker's completions (the bytes a user process produced) go through it too.

Example:
    >>> import grpc
    >>> from engine.proto import orchestrator_service_pb2 as pb
    >>> stub = SidecarStub(grpc.insecure_channel("127.0.0.1:4001"))  # doctest: +SKIP
    >>> stub.hello()  # doctest: +SKIP
    >>> stub.start_instance(pb.CreateInstanceRequest(name="x"))  # doctest: +SKIP
    >>> stub.complete_activity_task(b"...").result()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TypeVar

import grpc
from google.protobuf import empty_pb2

from engine.proto import orchestrator_service_pb2 as pb

SERVICE_NAME = "TaskHubSidecarService"
"""Fully qualified gRPC service name of the sidecar (upstream declares no package)."""

_T_co = TypeVar("_T_co", covariant=True)

Metadata = Sequence[tuple[str, str]]
"""gRPC call metadata: a sequence of ``(key, value)`` pairs."""


class ResponseStream(Protocol[_T_co]):
    """A server-streaming call result: iterate it for messages, ``cancel()`` to stop it.

    This is the subset of ``grpc``'s streaming call object this project relies on.
    """

    def __iter__(self) -> Iterator[_T_co]:
        """Return the iterator over response messages."""
        ...

    def __next__(self) -> _T_co:
        """Block for and return the next response message."""
        ...

    def cancel(self) -> bool:
        """Cancel the call; return True if it was still running."""
        ...


class WorkerCodec(Protocol):
    """Reads a sidecar's work items and writes a worker's completions in its dialect."""

    def work_items_request(self, request: Any) -> bytes:
        """The ``GetWorkItems`` request, encoded."""
        ...

    def work_item(self, data: bytes) -> pb.WorkItem:
        """One streamed work item, decoded to the Microsoft-shaped message."""
        ...

    def turn_response(self, data: bytes) -> bytes:
        """An ``OrchestratorResponse``, encoded for the sidecar."""
        ...

    def activity_response(self, data: bytes) -> bytes:
        """An ``ActivityResponse``, encoded for the sidecar."""
        ...


def method_path(method: str) -> str:
    """Return the wire path of a sidecar method.

    Args:
        method: The RPC name as declared upstream, e.g. ``"GetWorkItems"``.

    Returns:
        The HTTP/2 path, e.g. ``"/TaskHubSidecarService/GetWorkItems"``.
    """
    return f"/{SERVICE_NAME}/{method}"


class SidecarStub:
    """Client for the sidecar RPCs this project uses.

    Every method takes the request message (where the RPC has one) plus optional ``timeout``
    (seconds, None for no deadline) and ``metadata``. Unary calls return the response message
    and raise ``grpc.RpcError`` on a non-OK status; streaming calls return a
    :class:`ResponseStream`. The two completions take the response message or its serialized
    bytes and return a ``grpc.Future`` at once (``.result()`` waits for the sidecar's answer),
    so a worker need not wait for the round trip.

    Args:
        channel: An open ``grpc.Channel`` to the sidecar.
        codec: For a sidecar of another dialect (Dapr's: ``engine.dapr_wire.DaprCodec``), what
            reads its work items and writes the completions; the worker's messages stay
            Microsoft-shaped either way.
    """

    def __init__(self, channel: grpc.Channel, codec: WorkerCodec | None = None) -> None:
        self._channel = channel
        self._hello = self._unary("Hello", empty_pb2.Empty)
        self._get_work_items = self._stream("GetWorkItems", pb.WorkItem)
        self._complete_orchestrator = self._unary(
            "CompleteOrchestratorTask", pb.CompleteTaskResponse
        )
        self._complete_activity = self._unary("CompleteActivityTask", pb.CompleteTaskResponse)
        if codec is not None:
            self._get_work_items = channel.unary_stream(
                method_path("GetWorkItems"),
                request_serializer=codec.work_items_request,
                response_deserializer=codec.work_item,
            )
            self._complete_orchestrator = channel.unary_unary(
                method_path("CompleteOrchestratorTask"),
                request_serializer=lambda r: codec.turn_response(_serialize(r)),
                response_deserializer=pb.CompleteTaskResponse.FromString,
            )
            self._complete_activity = channel.unary_unary(
                method_path("CompleteActivityTask"),
                request_serializer=lambda r: codec.activity_response(_serialize(r)),
                response_deserializer=pb.CompleteTaskResponse.FromString,
            )
        self._abandon_orchestrator = self._unary(
            "AbandonTaskOrchestratorWorkItem", pb.AbandonOrchestrationTaskResponse
        )
        self._abandon_activity = self._unary(
            "AbandonTaskActivityWorkItem", pb.AbandonActivityTaskResponse
        )
        self._complete_entity = self._unary("CompleteEntityTask", pb.CompleteTaskResponse)
        self._abandon_entity = self._unary(
            "AbandonTaskEntityWorkItem", pb.AbandonEntityTaskResponse
        )
        self._start_instance = self._unary("StartInstance", pb.CreateInstanceResponse)
        self._get_instance = self._unary("GetInstance", pb.GetInstanceResponse)
        self._wait_for_instance_completion = self._unary(
            "WaitForInstanceCompletion", pb.GetInstanceResponse
        )
        self._query_instances = self._unary("QueryInstances", pb.QueryInstancesResponse)
        self._query_entities = self._unary("QueryEntities", pb.QueryEntitiesResponse)
        self._stream_instance_history = self._stream("StreamInstanceHistory", pb.HistoryChunk)
        self._control = {
            method: self._unary(method, response) for method, response in CONTROL_RESPONSES.items()
        }

    def _unary(self, method: str, response_type: Any) -> Any:
        return self._channel.unary_unary(
            method_path(method),
            request_serializer=_serialize,
            response_deserializer=response_type.FromString,
        )

    def _stream(self, method: str, response_type: Any) -> Any:
        return self._channel.unary_stream(
            method_path(method),
            request_serializer=_serialize,
            response_deserializer=response_type.FromString,
        )

    # Worker RPCs

    def hello(self, *, timeout: float | None = None, metadata: Metadata | None = None) -> None:
        """Check that the sidecar is reachable (``Hello``: ``Empty`` to ``Empty``)."""
        self._hello(empty_pb2.Empty(), timeout=timeout, metadata=metadata)

    def get_work_items(
        self,
        request: pb.GetWorkItemsRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> ResponseStream[pb.WorkItem]:
        """Open the work-item stream (``GetWorkItems``); ``cancel()`` it to disconnect."""
        stream: ResponseStream[pb.WorkItem] = self._get_work_items(
            request, timeout=timeout, metadata=metadata
        )
        return stream

    def complete_orchestrator_task(
        self,
        response: pb.OrchestratorResponse | bytes,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> grpc.Future:
        """Send one turn's actions (``CompleteOrchestratorTask``) without waiting."""
        future: grpc.Future = self._complete_orchestrator.future(
            response, timeout=timeout, metadata=metadata
        )
        return future

    def complete_activity_task(
        self,
        response: pb.ActivityResponse | bytes,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> grpc.Future:
        """Send an activity's result or failure (``CompleteActivityTask``) without waiting."""
        future: grpc.Future = self._complete_activity.future(
            response, timeout=timeout, metadata=metadata
        )
        return future

    def complete_entity_task(
        self,
        result: pb.EntityBatchResult | bytes,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> grpc.Future:
        """Send an entity batch's results (``CompleteEntityTask``) without waiting."""
        future: grpc.Future = self._complete_entity.future(
            result, timeout=timeout, metadata=metadata
        )
        return future

    def abandon_orchestrator_work_item(
        self,
        request: pb.AbandonOrchestrationTaskRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.AbandonOrchestrationTaskResponse:
        """Give a turn back for redelivery (``AbandonTaskOrchestratorWorkItem``)."""
        return self._abandon_orchestrator(request, timeout=timeout, metadata=metadata)

    def abandon_activity_work_item(
        self,
        request: pb.AbandonActivityTaskRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.AbandonActivityTaskResponse:
        """Give an activity back for redelivery (``AbandonTaskActivityWorkItem``)."""
        return self._abandon_activity(request, timeout=timeout, metadata=metadata)

    def abandon_entity_work_item(
        self,
        request: pb.AbandonEntityTaskRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.AbandonEntityTaskResponse:
        """Give an entity work item back (``AbandonTaskEntityWorkItem``)."""
        return self._abandon_entity(request, timeout=timeout, metadata=metadata)

    # Client and inspector RPCs

    def start_instance(
        self,
        request: pb.CreateInstanceRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.CreateInstanceResponse:
        """Schedule a new orchestration instance (``StartInstance``)."""
        return self._start_instance(request, timeout=timeout, metadata=metadata)

    def get_instance(
        self,
        request: pb.GetInstanceRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.GetInstanceResponse:
        """Read an instance's state (``GetInstance``): ``exists`` and the state."""
        return self._get_instance(request, timeout=timeout, metadata=metadata)

    def wait_for_instance_completion(
        self,
        request: pb.GetInstanceRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.GetInstanceResponse:
        """Long-poll until an instance is terminal (``WaitForInstanceCompletion``)."""
        return self._wait_for_instance_completion(request, timeout=timeout, metadata=metadata)

    def query_instances(
        self,
        request: pb.QueryInstancesRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.QueryInstancesResponse:
        """One page of instances matching a query, and the next continuation token."""
        return self._query_instances(request, timeout=timeout, metadata=metadata)

    def query_entities(
        self,
        request: pb.QueryEntitiesRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.QueryEntitiesResponse:
        """One page of entities matching a query, and the next continuation token."""
        return self._query_entities(request, timeout=timeout, metadata=metadata)

    def stream_instance_history(
        self,
        request: pb.StreamInstanceHistoryRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> ResponseStream[pb.HistoryChunk]:
        """An instance's history in chunks, oldest events first (``StreamInstanceHistory``)."""
        stream: ResponseStream[pb.HistoryChunk] = self._stream_instance_history(
            request, timeout=timeout, metadata=metadata
        )
        return stream

    def get_instance_history(
        self,
        instance_id: str,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> list[pb.HistoryEvent]:
        """A Dapr sidecar's whole history of an instance (Dapr's unary ``GetInstanceHistory``;
        Microsoft's sidecars stream it instead), converted to Microsoft-shaped events."""
        from engine.dapr_wire import from_dapr
        from engine.proto import dapr_workflow_pb2 as dpb

        call = self._channel.unary_unary(
            method_path("GetInstanceHistory"),
            request_serializer=_serialize,
            response_deserializer=dpb.GetInstanceHistoryResponse.FromString,
        )
        response = call(
            dpb.GetInstanceHistoryRequest(instanceId=instance_id),
            timeout=timeout,
            metadata=metadata,
        )
        return [from_dapr(event)[0] for event in response.events]

    def control(
        self,
        method: str,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> Any:
        """Act on an instance: one of :data:`CONTROL_RESPONSES` (``RaiseEvent``...).

        Returns the method's response message; raises ``grpc.RpcError`` on a non-OK status
        (``UNIMPLEMENTED`` where the sidecar lacks the method).
        """
        return self._control[method](request, timeout=timeout, metadata=metadata)


CONTROL_RESPONSES: dict[str, Any] = {
    "RaiseEvent": pb.RaiseEventResponse,
    "SuspendInstance": pb.SuspendResponse,
    "ResumeInstance": pb.ResumeResponse,
    "TerminateInstance": pb.TerminateResponse,
    "PurgeInstances": pb.PurgeInstancesResponse,
    "RestartInstance": pb.RestartInstanceResponse,
    "RewindInstance": pb.RewindInstanceResponse,
}
"""The instance-control RPCs (the live view's actions) and their response types."""


def _serialize(message: Any) -> bytes:
    """Serialize a request message deterministically; bytes (already serialized) pass as is."""
    if isinstance(message, bytes):
        return message
    data: bytes = message.SerializeToString(deterministic=True)
    return data
