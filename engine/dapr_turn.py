"""A Dapr turn at the engine's edges: its request in, its response out.

The engine replays Microsoft-shaped messages; a Dapr ``WorkflowRequest`` is converted by
:mod:`engine.dapr_wire`, which keeps its Dapr-only fields as extras
(``request.dapr``). What the replay needs of them is read
here: the app id on ``executionStarted``'s router and the patches ``workflowStarted`` lists.
On the way out, the actions' Dapr facts (routers, execution ids, timer origins, propagation)
and the patches the code used are laid onto the response.
"""

from __future__ import annotations

from typing import Any

from engine import history as h
from engine.dapr_facts import ActionFacts, EventFacts, ResponseFacts
from engine.dapr_wire import from_dapr, with_extras
from engine.outcome import ReplayOutcome
from engine.proto import dapr_workflow_pb2 as dpb


def dapr_request(msg: dpb.WorkflowRequest) -> h.OrchestrationRequest:
    """The engine's request for a Dapr ``WorkflowRequest`` (its Dapr-only fields kept in
    ``request.dapr``, a ``WorkflowRequest`` of extras)."""
    ms, extras = from_dapr(msg)
    return h.OrchestrationRequest.from_proto(
        ms, extras if extras is not None else dpb.WorkflowRequest()
    )


def event_facts(request: h.OrchestrationRequest, index: int) -> EventFacts:
    """The Dapr-only facts of event ``index`` (past events first), empty when none."""
    return request.dapr_facts(index)  # type: ignore[no-any-return]


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
    extras = request.dapr
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
    return response
