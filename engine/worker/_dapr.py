"""The worker's side of Dapr's dialect: reading its work items, answering as its worker does.

The worker works on Microsoft-shaped messages; :class:`DaprCodec` (given to the
:class:`~engine.sidecar.SidecarStub` of a ``--dialect dapr`` worker) is where its stream's bytes
are read and its completions written in Dapr's dialect, through :mod:`engine.dapr_wire`.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any

from engine.dapr_facts import ActionFacts, ResponseFacts, Router, TimerOrigin, app_id
from engine.dapr_wire import from_dapr, to_dapr, with_extras
from engine.proto import dapr_workflow_pb2 as dpb
from engine.proto import orchestrator_service_pb2 as pb


def abandons(dialect: str) -> bool:
    """Whether a sidecar of this dialect can take a work item back.

    Dapr's cannot (it declares no abandon RPC, DAPR.md §1): a work item a worker does not
    complete stays with the sidecar, which hands it out again once the worker's stream closes.
    """
    return dialect != "dapr"


_EXECUTION_ID_NAMESPACE = uuid.UUID("5f1b8a52-2f7c-4c57-9a3e-6d0f2b7b9c11")


def worker_facts(
    request: pb.OrchestratorRequest,
    extras: dpb.WorkflowRequest | None,
    response: pb.OrchestratorResponse,
) -> ResponseFacts:
    """The Dapr-only fields of a turn answered by Microsoft-flavour code, as Dapr's worker
    would set them: every action and task routed from the app id, user timers with origin
    ``createTimer``, and a task execution id per scheduled task (a UUID of the instance,
    execution and action id: stable across replays, since this flavour keeps a retried task's
    id). Dapr-flavour code brings its own facts instead."""
    source = Router(app_id(request, extras))
    execution = request.executionId.value if request.HasField("executionId") else ""
    actions: dict[int, ActionFacts] = {}
    for action in response.actions:
        kind = action.WhichOneof("orchestratorActionType")
        execution_id = ""
        if kind == "scheduleTask":
            name = f"{request.instanceId}\x00{execution}\x00{action.id}"
            execution_id = str(uuid.uuid5(_EXECUTION_ID_NAMESPACE, name))
        actions[action.id] = ActionFacts(
            router=source,
            task_router=source if kind in ("scheduleTask", "createSubOrchestration") else None,
            task_execution_id=execution_id,
            timer_origin=TimerOrigin("createTimer") if kind == "createTimer" else None,
        )
    return ResponseFacts(actions=actions)


class DaprCodec:
    """Work items in, completions out, for a worker talking to a Dapr sidecar.

    The worker works on Microsoft-shaped messages; this is where its stream's bytes are read
    and its completions written in Dapr's dialect. The Dapr-only fields of each workflow
    request are kept by completion token (the last :data:`KEEP` turns) for its answer.
    """

    KEEP = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns: OrderedDict[str, tuple[pb.OrchestratorRequest, Any]] = OrderedDict()

    def work_items_request(self, _request: Any) -> bytes:
        """Dapr's ``GetWorkItemsRequest`` is empty: no limits, capabilities or filters."""
        return b""

    def work_item(self, data: bytes) -> pb.WorkItem:
        """A Dapr ``WorkItem`` as the Microsoft-shaped one the worker dispatches."""
        item, extras = from_dapr(dpb.WorkItem.FromString(data))
        if item.WhichOneof("request") == "orchestratorRequest":
            turn_extras = extras.workflowRequest if extras is not None else None
            with self._lock:
                self._turns[item.completionToken] = (item.orchestratorRequest, turn_extras)
                while len(self._turns) > self.KEEP:
                    self._turns.popitem(last=False)
        result: pb.WorkItem = item
        return result

    def turn_response(self, data: bytes) -> bytes:
        """A turn's ``OrchestratorResponse`` bytes as Dapr's ``WorkflowResponse`` bytes."""
        response = pb.OrchestratorResponse.FromString(data)
        with self._lock:
            request, extras = self._turns.get(response.completionToken, (None, None))
        request = request if request is not None else pb.OrchestratorRequest()
        facts = worker_facts(request, extras, response)
        return with_extras(response, facts).SerializeToString()

    def activity_response(self, data: bytes) -> bytes:
        """An ``ActivityResponse``'s bytes in Dapr's schema (the fields are the same)."""
        converted, _ = to_dapr(pb.ActivityResponse.FromString(data))
        result: bytes = converted.SerializeToString()
        return result
