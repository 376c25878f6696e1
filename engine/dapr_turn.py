"""A Dapr turn at the engine's edges: its request in, its response out.

The engine replays Microsoft-shaped messages; a Dapr ``WorkflowRequest`` is converted by
:mod:`engine.dapr_wire`, which keeps its Dapr-only fields as extras
(``request.dapr``). What the replay needs of them is read
here: the app id on ``executionStarted``'s router and the patches ``workflowStarted`` lists.
On the way out, the actions' Dapr facts (routers, execution ids, timer origins, propagation)
and the patches the code used are laid onto the response.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from engine import history as h
from engine.dapr_wire import ActionFacts, EventFacts, ResponseFacts, from_dapr, with_extras
from engine.errors import LoadError
from engine.outcome import ReplayOutcome
from engine.proto import dapr_workflow_pb2 as dpb

_SENTINEL_SECONDS = 253_402_300_799
_SENTINEL_NANOS = 999_999_999


class _DaprRequest(h.OrchestrationRequest):
    """A request read in Dapr's dialect, with its Dapr-only fields (``dapr``)."""

    __slots__ = ("dapr",)
    dapr: Any


def dapr_request(msg: dpb.WorkflowRequest) -> h.OrchestrationRequest:
    """The engine's request for a Dapr ``WorkflowRequest`` (its Dapr-only fields kept in
    ``request.dapr``, a ``WorkflowRequest`` of extras)."""
    ms, extras = from_dapr(msg)
    request = _DaprRequest(ms)
    request.dapr = extras if extras is not None else dpb.WorkflowRequest()
    return request


def load_dapr_request(source: str | os.PathLike[str] | bytes) -> h.OrchestrationRequest:
    """Read a Dapr ``WorkflowRequest`` file: base64, binary or protobuf JSON.

    Raises:
        LoadError: the file is missing or holds no Dapr workflow request.
    """
    from engine.load import read_source

    data, where = read_source(source)
    text = data.strip()
    msg = dpb.WorkflowRequest()
    try:
        if text.startswith(b"{"):
            json_format.Parse(text.decode("utf-8"), msg)
        else:
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raw = data
            msg.ParseFromString(raw)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError) as exc:
        raise LoadError(f"{where}: not a Dapr WorkflowRequest ({exc})") from None
    if not msg.instanceId or not (msg.pastEvents or msg.newEvents):
        raise LoadError(f"{where}: not a Dapr WorkflowRequest (no instance id or no events)")
    return dapr_request(msg)


def event_facts(request: h.OrchestrationRequest, index: int) -> EventFacts:
    """The Dapr-only facts of event ``index`` (past events first), empty when none."""
    extras = getattr(request, "dapr", None)
    if extras is None:
        return EventFacts()
    past = len(request.proto.pastEvents)
    events = extras.pastEvents if index < past else extras.newEvents
    position = index if index < past else index - past
    if position >= len(events):
        return EventFacts()
    return EventFacts.from_extras(events[position])


_DAPR_EVENT_NAMES = {
    "orchestratorStarted": "workflowStarted",
    "orchestratorCompleted": "workflowCompleted",
    "subOrchestrationInstanceCreated": "childWorkflowInstanceCreated",
    "subOrchestrationInstanceCompleted": "childWorkflowInstanceCompleted",
    "subOrchestrationInstanceFailed": "childWorkflowInstanceFailed",
}


def dapr_event_kind(request: h.OrchestrationRequest, index: int) -> str:
    """Event ``index``'s type as Dapr's executor names it (``'None'`` when it has none)."""
    facts = event_facts(request, index)
    if facts.dapr_kind is not None:
        return facts.dapr_kind
    which = request.event_proto(index).WhichOneof("eventType")
    return str(_DAPR_EVENT_NAMES.get(which, which) if which else None)


def start_facts(
    ctx: Any, request: h.OrchestrationRequest, index: int, functions: dict[str, Any], name: str
) -> Any:
    """Give a Dapr context what ``executionStarted`` (at ``index``) and the ``workflowStarted``
    events before it say (the app id, target else source; the patches applied; a pinned
    version), and return the workflow to run (``None``: not registered).

    Raises:
        VersionNotAvailable: the request pins a version the app does not register.
    """
    from engine.dapr_app import versioned
    from engine.dapr_context import VersionNotAvailable

    router = event_facts(request, index).router
    if router is not None:
        ctx.app_id = router.target_app_id or router.source_app_id or None
    pin = None
    for i in range(index + 1):
        facts = event_facts(request, i)
        ctx.history_patches.update(facts.patches)
        pin = facts.version_name or pin
    extras = getattr(request, "dapr", None)
    if extras is not None and extras.HasField("propagatedHistory"):
        ctx.propagated = propagated_history(extras.propagatedHistory.SerializeToString())
    try:
        fn, ctx.version_name = versioned(functions, name, pin)
    except LookupError:
        raise VersionNotAvailable(f"Version not available: {pin}") from None
    return fn


def propagated_history(encoded: bytes) -> Any:
    """Dapr's ``PropagatedHistory`` view of a request's propagated history (its bytes)."""
    from engine import sdk

    msg = sdk.module("internal.protos").PropagatedHistory.FromString(encoded)
    from dapr.ext.workflow.propagation import PropagatedHistory

    return PropagatedHistory.from_proto(msg)


def dapr_response(outcome: ReplayOutcome) -> dpb.WorkflowResponse:
    """The Dapr ``WorkflowResponse`` of a replayed Dapr turn."""
    turn = outcome.dapr
    if turn is not None and turn.stalled_id is not None:
        stalled = dpb.WorkflowResponse(
            instanceId=outcome.response.instanceId,
            completionToken=outcome.response.completionToken,
        )
        stalled.actions.add(id=turn.stalled_id).workflowVersionNotAvailable.SetInParent()
        return stalled
    facts: dict[int, ActionFacts] = {a.id: a.dapr for a in outcome.actions if a.dapr is not None}
    response = with_extras(
        outcome.response,
        ResponseFacts(
            version_name=turn.version_name if turn else None,
            patches=turn.patches if turn else (),
            actions=facts,
        ),
    )
    for action in response.actions:
        if (
            action.HasField("createTimer")
            and action.createTimer.fireAt.seconds == _SENTINEL_SECONDS
        ):
            action.createTimer.fireAt.nanos = _SENTINEL_NANOS
    return response


def answer_turn(
    app: Any, data: bytes, token: str, interval: Any
) -> tuple[dpb.WorkflowResponse, Any]:
    """A Dapr worker's answer to one ``WorkflowRequest`` (bytes): Dapr's response, and the
    Microsoft-shaped one for summaries. Anything the engine raises fails the workflow, as
    Dapr's worker fails it (one completion action, id -1)."""
    from engine.failures import orchestration_failure
    from engine.headless import replay_request
    from engine.proto import orchestrator_service_pb2 as pb

    msg = dpb.WorkflowRequest.FromString(data)
    try:
        outcome = replay_request(
            dapr_request(msg), app, completion_token=token, maximum_timer_interval=interval
        )
        return dapr_response(outcome), outcome.response
    except Exception as ex:  # noqa: BLE001 - any engine failure fails the workflow
        ms = pb.OrchestratorResponse(instanceId=msg.instanceId, completionToken=token)
        done = ms.actions.add(id=-1).completeOrchestration
        done.orchestrationStatus = pb.ORCHESTRATION_STATUS_FAILED
        done.result.value = ""
        done.failureDetails.CopyFrom(orchestration_failure(ex).to_proto())
        return with_extras(ms, ResponseFacts()), ms


def run_activity(app: Any, data: bytes, token: str) -> tuple[dpb.ActivityResponse, Any]:
    """Run one Dapr ``ActivityRequest`` (bytes) as Dapr's worker runs it: the registered
    wrapper called with Dapr's ``ActivityContext`` (task execution id included), JSON in and
    out; a raised exception is the failure (bare type name)."""
    import inspect

    from engine import sdk
    from engine.failures import orchestration_failure
    from engine.payloads import DEFAULT_CODEC

    req = dpb.ActivityRequest.FromString(data)
    instance_id = req.workflowInstance.instanceId
    res = dpb.ActivityResponse(instanceId=instance_id, taskId=req.taskId, completionToken=token)
    codec = DEFAULT_CODEC
    try:
        fn = app.activity(req.name)
        if fn is None:
            raise sdk.module("worker").ActivityNotRegisteredError(
                f"Activity function named '{req.name}' was not registered!"
            )
        value = codec.decode(req.input.value) if req.input.value else None
        ctx = sdk.task_module().ActivityContext(instance_id, req.taskId, req.taskExecutionId)
        output = fn(ctx, value)
        if inspect.isawaitable(output):
            import asyncio

            output = asyncio.run(output)  # type: ignore[arg-type]
        encoded = codec.encode(output) if output is not None else None
        if encoded is not None:
            res.result.value = encoded
    except Exception as ex:  # noqa: BLE001 - the activity's failure is its answer
        res.failureDetails.ParseFromString(orchestration_failure(ex).to_proto().SerializeToString())
    return res, from_dapr(res)[0]
