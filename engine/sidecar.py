"""Typed gRPC client for the Durable Task sidecar (``TaskHubSidecarService``).

The sidecar's service has no protobuf package, so its methods live at
``/TaskHubSidecarService/<Method>``. Our generated messages do have a package
(``durableinspector``) and no service, so this module builds each call by its wire path with
``channel.unary_unary`` / ``channel.unary_stream`` and our messages' ``SerializeToString`` /
``FromString``. The bytes on the wire are identical to the SDK's.

Example:
    >>> import grpc
    >>> from engine.proto import orchestrator_service_pb2 as pb
    >>> stub = SidecarStub(grpc.insecure_channel("127.0.0.1:4001"))  # doctest: +SKIP
    >>> stub.hello()  # doctest: +SKIP
    >>> stub.start_instance(pb.CreateInstanceRequest(name="x"))  # doctest: +SKIP
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
    (seconds) and ``metadata``, and raises ``grpc.RpcError`` on a non-OK status.

    Args:
        channel: An open ``grpc.Channel`` to the sidecar.
    """

    def __init__(self, channel: grpc.Channel) -> None:
        self._channel = channel
        self._hello = self._unary("Hello", empty_pb2.Empty)
        self._get_work_items = self._stream("GetWorkItems", pb.WorkItem)
        self._complete_activity_task = self._unary("CompleteActivityTask", pb.CompleteTaskResponse)
        self._complete_orchestrator_task = self._unary(
            "CompleteOrchestratorTask", pb.CompleteTaskResponse
        )
        self._abandon_activity = self._unary(
            "AbandonTaskActivityWorkItem", pb.AbandonActivityTaskResponse
        )
        self._abandon_orchestrator = self._unary(
            "AbandonTaskOrchestratorWorkItem", pb.AbandonOrchestrationTaskResponse
        )
        self._start_instance = self._unary("StartInstance", pb.CreateInstanceResponse)
        self._get_instance = self._unary("GetInstance", pb.GetInstanceResponse)
        self._wait_for_instance_start = self._unary("WaitForInstanceStart", pb.GetInstanceResponse)
        self._wait_for_instance_completion = self._unary(
            "WaitForInstanceCompletion", pb.GetInstanceResponse
        )
        self._raise_event = self._unary("RaiseEvent", pb.RaiseEventResponse)
        self._terminate_instance = self._unary("TerminateInstance", pb.TerminateResponse)
        self._suspend_instance = self._unary("SuspendInstance", pb.SuspendResponse)
        self._resume_instance = self._unary("ResumeInstance", pb.ResumeResponse)
        self._query_instances = self._unary("QueryInstances", pb.QueryInstancesResponse)
        self._stream_instance_history = self._stream("StreamInstanceHistory", pb.HistoryChunk)
        self._purge_instances = self._unary("PurgeInstances", pb.PurgeInstancesResponse)

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
        """Check that the sidecar is reachable (``Hello``: ``Empty`` to ``Empty``).

        Args:
            timeout: Deadline in seconds, or None for no deadline.
            metadata: Optional call metadata.
        """
        self._hello(empty_pb2.Empty(), timeout=timeout, metadata=metadata)

    def get_work_items(
        self,
        request: pb.GetWorkItemsRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> ResponseStream[pb.WorkItem]:
        """Open the work-item stream (``GetWorkItems``).

        Args:
            request: Worker limits, capabilities and filters.
            timeout: Deadline in seconds for the whole stream, or None.
            metadata: Optional call metadata.

        Returns:
            A stream of ``WorkItem`` messages; call ``cancel()`` on it to disconnect.
        """
        stream: ResponseStream[pb.WorkItem] = self._get_work_items(
            request, timeout=timeout, metadata=metadata
        )
        return stream

    def complete_activity_task(
        self,
        request: pb.ActivityResponse,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.CompleteTaskResponse:
        """Report an activity's result or failure (``CompleteActivityTask``).

        Args:
            request: The activity outcome, echoing the work item's completion token.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The (empty) ``CompleteTaskResponse``.
        """
        return self._complete_activity_task(request, timeout=timeout, metadata=metadata)

    def complete_orchestrator_task(
        self,
        request: pb.OrchestratorResponse,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.CompleteTaskResponse:
        """Report the actions of one orchestration turn (``CompleteOrchestratorTask``).

        Args:
            request: The turn's actions and custom status, echoing the completion token.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The (empty) ``CompleteTaskResponse``.
        """
        return self._complete_orchestrator_task(request, timeout=timeout, metadata=metadata)

    def abandon_activity_work_item(
        self,
        request: pb.AbandonActivityTaskRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.AbandonActivityTaskResponse:
        """Give an activity work item back (``AbandonTaskActivityWorkItem``).

        Args:
            request: Carries the work item's completion token.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The (empty) ``AbandonActivityTaskResponse``.
        """
        return self._abandon_activity(request, timeout=timeout, metadata=metadata)

    def abandon_orchestrator_work_item(
        self,
        request: pb.AbandonOrchestrationTaskRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.AbandonOrchestrationTaskResponse:
        """Give an orchestration work item back (``AbandonTaskOrchestratorWorkItem``).

        Args:
            request: Carries the work item's completion token.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The (empty) ``AbandonOrchestrationTaskResponse``.
        """
        return self._abandon_orchestrator(request, timeout=timeout, metadata=metadata)

    # Client and inspector RPCs

    def start_instance(
        self,
        request: pb.CreateInstanceRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.CreateInstanceResponse:
        """Schedule a new orchestration instance (``StartInstance``).

        Args:
            request: Orchestrator name, optional instance id, input and start time.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The response carrying the instance id actually used.
        """
        return self._start_instance(request, timeout=timeout, metadata=metadata)

    def get_instance(
        self,
        request: pb.GetInstanceRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.GetInstanceResponse:
        """Read an instance's state (``GetInstance``).

        Args:
            request: Instance id and whether to include inputs and outputs.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            ``exists`` and, when it exists, the ``OrchestrationState``.
        """
        return self._get_instance(request, timeout=timeout, metadata=metadata)

    def wait_for_instance_start(
        self,
        request: pb.GetInstanceRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.GetInstanceResponse:
        """Long-poll until an instance leaves PENDING (``WaitForInstanceStart``).

        Args:
            request: Instance id and whether to include inputs and outputs.
            timeout: Deadline in seconds, or None to wait indefinitely.
            metadata: Optional call metadata.

        Returns:
            The instance state once it has started.
        """
        return self._wait_for_instance_start(request, timeout=timeout, metadata=metadata)

    def wait_for_instance_completion(
        self,
        request: pb.GetInstanceRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.GetInstanceResponse:
        """Long-poll until an instance reaches a terminal state (``WaitForInstanceCompletion``).

        Args:
            request: Instance id and whether to include inputs and outputs.
            timeout: Deadline in seconds, or None to wait indefinitely.
            metadata: Optional call metadata.

        Returns:
            The instance state once it is terminal.
        """
        return self._wait_for_instance_completion(request, timeout=timeout, metadata=metadata)

    def raise_event(
        self,
        request: pb.RaiseEventRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.RaiseEventResponse:
        """Send an external event to an instance (``RaiseEvent``).

        Args:
            request: Instance id, event name and JSON input.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The (empty) ``RaiseEventResponse``.
        """
        return self._raise_event(request, timeout=timeout, metadata=metadata)

    def terminate_instance(
        self,
        request: pb.TerminateRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.TerminateResponse:
        """Terminate an instance (``TerminateInstance``).

        Args:
            request: Instance id, output and whether to recurse into children.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The (empty) ``TerminateResponse``.
        """
        return self._terminate_instance(request, timeout=timeout, metadata=metadata)

    def suspend_instance(
        self,
        request: pb.SuspendRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.SuspendResponse:
        """Suspend an instance (``SuspendInstance``).

        Args:
            request: Instance id and optional reason.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The (empty) ``SuspendResponse``.
        """
        return self._suspend_instance(request, timeout=timeout, metadata=metadata)

    def resume_instance(
        self,
        request: pb.ResumeRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.ResumeResponse:
        """Resume a suspended instance (``ResumeInstance``).

        Args:
            request: Instance id and optional reason.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The (empty) ``ResumeResponse``.
        """
        return self._resume_instance(request, timeout=timeout, metadata=metadata)

    def query_instances(
        self,
        request: pb.QueryInstancesRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.QueryInstancesResponse:
        """List instances matching a query (``QueryInstances``).

        Args:
            request: The ``InstanceQuery`` (status, time range, prefix, page size, token).
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            One page of ``OrchestrationState`` values and the next continuation token.
        """
        return self._query_instances(request, timeout=timeout, metadata=metadata)

    def stream_instance_history(
        self,
        request: pb.StreamInstanceHistoryRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> ResponseStream[pb.HistoryChunk]:
        """Stream an instance's history in chunks (``StreamInstanceHistory``).

        Args:
            request: Instance id and optional execution id.
            timeout: Deadline in seconds for the whole stream, or None.
            metadata: Optional call metadata.

        Returns:
            A stream of ``HistoryChunk`` messages, oldest events first.
        """
        stream: ResponseStream[pb.HistoryChunk] = self._stream_instance_history(
            request, timeout=timeout, metadata=metadata
        )
        return stream

    def purge_instances(
        self,
        request: pb.PurgeInstancesRequest,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
    ) -> pb.PurgeInstancesResponse:
        """Delete instances and their history (``PurgeInstances``).

        Args:
            request: One instance id, a filter, or a batch of ids.
            timeout: Deadline in seconds, or None.
            metadata: Optional call metadata.

        Returns:
            The number of instances deleted and whether the purge is complete.
        """
        return self._purge_instances(request, timeout=timeout, metadata=metadata)


def _serialize(message: Any) -> bytes:
    """Serialize a request message deterministically (stable map ordering)."""
    data: bytes = message.SerializeToString(deterministic=True)
    return data
