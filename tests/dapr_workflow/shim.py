"""A stand-in for a Dapr sidecar: Dapr's dialect in front, the SDK's in-memory sidecar behind.

No Dapr sidecar (daprd) can run on these machines, so the tests put this shim where daprd
would be. It is kept as small as it can be: it serves only the four RPCs a workflow worker
calls (``Hello``, ``GetWorkItems``, ``CompleteOrchestratorTask``, ``CompleteActivityTask``) and
Dapr's unary ``GetInstanceHistory`` (for ``attach``), at the paths daprd serves them. It takes
and gives raw bytes and moves every message across with ``engine.dapr_wire`` (our own
generated modules for both dialects, so it runs in a process that has the durabletask SDK
loaded). Clients (scheduling, raising events, waiting) talk to the in-memory sidecar directly,
in Microsoft's dialect.

Two things daprd does that the in-memory sidecar cannot, done here as daprd's applier does them:

- It keeps the Dapr-only facts of every action (routers, ``taskExecutionId``, timer origins)
  and writes them back onto the history events the action became (same instance, same event
  id), and onto the activity request of a scheduled task.
- It writes no ``orchestratorCompleted`` marker (Dapr's executor fails on one), so the markers
  the in-memory sidecar appends after each turn are left out of the requests.

And one thing the in-memory sidecar cannot take: it sleeps until each timer in a thread, and
cannot sleep until Dapr's 9999-12-31 sentinel (the timer behind a wait without end), nor
keeps its nanoseconds. A timer that far off goes to it parked at 2099-12-31 (it never fires
either way), and its ``timerCreated`` comes back with the fire time the worker asked for, as
daprd keeps it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc

from engine import dapr_wire
from engine.proto import dapr_workflow_pb2 as dpb
from engine.proto import orchestrator_service_pb2 as pb

_PATH = "/TaskHubSidecarService/"
_UNARY = ("Hello", "CompleteOrchestratorTask", "CompleteActivityTask")
PARKED_SECONDS = 4_102_444_799
"""2099-12-31T23:59:59Z: where a timer further off waits in the in-memory sidecar."""


class DaprShim:
    """Serve Dapr's dialect on ``127.0.0.1:port`` and forward to ``backend_address``."""

    def __init__(self, backend_address: str, port: int = 0) -> None:
        self._channel = grpc.insecure_channel(backend_address)
        self._facts: dict[tuple[str, int], dpb.HistoryEvent] = {}
        self._lock = threading.Lock()
        self.seen: list[str] = []
        """Every RPC served, by name, in order (what the Dapr-side worker called)."""
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self._server.add_generic_rpc_handlers((_Handler(self),))
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")

    def start(self) -> DaprShim:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)
        self._channel.close()

    # --- the four RPCs, bytes in and bytes out --------------------------------------------

    def unary(self, method: str, data: bytes) -> bytes:
        self.seen.append(method)
        if method == "CompleteOrchestratorTask":
            response = dpb.WorkflowResponse.FromString(data)
            self._remember(response)
            converted = dapr_wire.from_dapr(response)[0]
            for action in converted.actions:
                fire = action.createTimer.fireAt
                if action.HasField("createTimer") and fire.seconds > PARKED_SECONDS:
                    fire.seconds, fire.nanos = PARKED_SECONDS, 0
            data = converted.SerializeToString()
        elif method == "CompleteActivityTask":
            data = dapr_wire.from_dapr(dpb.ActivityResponse.FromString(data))[0].SerializeToString()
        call = self._channel.unary_unary(_PATH + method)
        result: bytes = call(data)
        return result

    def instance_history(self, data: bytes) -> bytes:
        """Dapr's unary ``GetInstanceHistory``, from the backend's ``StreamInstanceHistory``."""
        self.seen.append("GetInstanceHistory")
        instance_id = dpb.GetInstanceHistoryRequest.FromString(data).instanceId
        stream = self._channel.unary_stream(_PATH + "StreamInstanceHistory")
        request = pb.StreamInstanceHistoryRequest(instanceId=instance_id)
        answer = dpb.GetInstanceHistoryResponse()
        for raw in stream(request.SerializeToString()):
            for event in pb.HistoryChunk.FromString(raw).events:
                if event.HasField("orchestratorCompleted"):
                    continue
                extras = self._event_extras(instance_id, event)
                answer.events.add().CopyFrom(dapr_wire.to_dapr(event, extras)[0])
        return answer.SerializeToString()

    def work_items(self, data: bytes) -> Iterator[bytes]:
        self.seen.append("GetWorkItems")
        assert data == b"", "Dapr's worker sends an empty GetWorkItemsRequest"
        stream = self._channel.unary_stream(_PATH + "GetWorkItems")
        try:
            for raw in stream(pb.GetWorkItemsRequest().SerializeToString()):
                yield self._to_dapr_item(pb.WorkItem.FromString(raw)).SerializeToString()
        except grpc.RpcError:
            return  # the backend went away (the test is over): the worker's stream ends

    # --- what daprd's applier keeps ------------------------------------------------------------

    def _remember(self, response: dpb.WorkflowResponse) -> None:
        """Keep each action's Dapr-only facts as the extras of the event it will become."""
        with self._lock:
            for action in response.actions:
                extras = dpb.HistoryEvent()
                if action.HasField("router"):
                    extras.router.CopyFrom(action.router)
                kind = action.WhichOneof("workflowActionType")
                if kind == "scheduleTask":
                    extras.taskScheduled.taskExecutionId = action.scheduleTask.taskExecutionId
                elif kind == "createTimer":
                    timer = action.createTimer
                    origin = timer.WhichOneof("origin")
                    if origin is not None:
                        getattr(extras.timerCreated, origin).CopyFrom(getattr(timer, origin))
                    if timer.fireAt.seconds > PARKED_SECONDS:  # parked on the way (see unary)
                        extras.timerCreated.fireAt.CopyFrom(timer.fireAt)
                self._facts[(response.instanceId, action.id)] = extras

    def _event_extras(self, instance_id: str, event: pb.HistoryEvent) -> dpb.HistoryEvent:
        kind = event.WhichOneof("eventType")
        if kind not in ("taskScheduled", "timerCreated", "subOrchestrationInstanceCreated"):
            return dpb.HistoryEvent()
        with self._lock:
            return self._facts.get((instance_id, event.eventId), dpb.HistoryEvent())

    def _to_dapr_item(self, item: pb.WorkItem) -> dpb.WorkItem:
        kind = item.WhichOneof("request")
        extras = dpb.WorkItem()
        if kind == "orchestratorRequest":
            request = item.orchestratorRequest
            for lane in ("pastEvents", "newEvents"):
                events = getattr(request, lane)
                kept = [e for e in events if not e.HasField("orchestratorCompleted")]
                del getattr(request, lane)[:]
                getattr(request, lane).extend(kept)
                for event in kept:
                    found = self._event_extras(request.instanceId, event)
                    getattr(extras.workflowRequest, lane).add().CopyFrom(found)
        elif kind == "activityRequest":
            activity = item.activityRequest
            key = (activity.orchestrationInstance.instanceId, activity.taskId)
            with self._lock:
                known = self._facts.get(key)
            if known is not None:
                extras.activityRequest.taskExecutionId = known.taskScheduled.taskExecutionId
        converted: dpb.WorkItem = dapr_wire.to_dapr(item, extras)[0]
        return converted


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, shim: DaprShim) -> None:
        self._shim = shim

    def service(self, details: Any) -> grpc.RpcMethodHandler | None:
        method = details.method
        if not method.startswith(_PATH):
            return None
        name = method[len(_PATH) :]
        if name == "GetWorkItems":
            return grpc.unary_stream_rpc_method_handler(
                lambda data, _ctx: self._shim.work_items(data)
            )
        if name == "GetInstanceHistory":
            return grpc.unary_unary_rpc_method_handler(
                lambda data, _ctx: self._shim.instance_history(data)
            )
        if name in _UNARY:
            return grpc.unary_unary_rpc_method_handler(
                lambda data, _ctx, name=name: self._shim.unary(name, data)
            )
        return None
