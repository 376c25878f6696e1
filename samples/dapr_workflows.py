"""Workflows written the Dapr way (``dapr-ext-workflow``), unmodified, for the inspector.

Dapr's ``WorkflowRuntime`` registers them (the decorators leave zero-argument thunks here;
the real functions sit in the runtime's registry under their registered names). Run them with
Dapr's runtime against a Dapr sidecar, or replay and step their turns with the inspector::

    inspector replay samples/dapr_requests/greeting-turn2.b64 --app samples/dapr_workflows.py
    inspector open samples/dapr_requests/greeting-turn2.b64 --app samples/dapr_workflows.py

Each ``SCENARIOS`` entry names a workflow, its input and what the recorder does while it runs
(events to raise); :mod:`samples.record_dapr` records their turns.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dapr.ext.workflow as wf

wfr = wf.WorkflowRuntime()

_FLAKY_CALLS: dict[str, int] = {}


@wfr.activity(name="say")
def say_hello(ctx: wf.WorkflowActivityContext, name: str) -> str:
    return f"hi {name}"


@wfr.activity
def double(ctx: wf.WorkflowActivityContext, n: int) -> int:
    return n * 2


@wfr.activity
def flaky(ctx: wf.WorkflowActivityContext, key: str) -> str:
    """Fails on its first two calls for a key (retried by the caller's policy)."""
    count = _FLAKY_CALLS[key] = _FLAKY_CALLS.get(key, 0) + 1
    if count < 3:
        raise ValueError(f"attempt {count} of {key} fails")
    return f"{key} ok after {count}"


@wfr.activity
def broken(ctx: wf.WorkflowActivityContext, reason: str) -> None:
    raise RuntimeError(reason)


@wfr.workflow(name="greeting")
def greeting(ctx: wf.DaprWorkflowContext, name: str) -> Any:
    """An activity, a timer, then an event wait with a timeout."""
    hello = yield ctx.call_activity(say_hello, input=name)
    yield ctx.create_timer(timedelta(seconds=2))
    approval = yield ctx.wait_for_external_event("approve", timeout=timedelta(seconds=30))
    ctx.set_custom_status("approved")
    return {"hello": hello, "approval": approval}


@wfr.workflow
def fan_out(ctx: wf.DaprWorkflowContext, count: int) -> Any:
    """``when_all`` over activities, then an indefinite wait (Dapr's 9999-12-31 timer)."""
    tasks = [ctx.call_activity(double, input=i) for i in range(count)]
    results = yield wf.when_all(tasks)
    go = yield ctx.wait_for_external_event("go")
    return {"sum": sum(results), "go": go}


@wfr.workflow(name="child")
def child_workflow(ctx: wf.DaprWorkflowContext, n: int) -> int:
    doubled = yield ctx.call_activity(double, input=n)
    return doubled + 1


@wfr.workflow
def parent(ctx: wf.DaprWorkflowContext, n: int) -> Any:
    """Child workflows, one by function and one by name with an instance id."""
    first = yield ctx.call_child_workflow(child_workflow, input=n)
    second = yield ctx.call_child_workflow("child", input=first, instance_id=f"{ctx.instance_id}-2")
    return [first, second]


RETRY = wf.RetryPolicy(
    first_retry_interval=timedelta(seconds=1), max_number_of_attempts=3, backoff_coefficient=2.0
)


@wfr.workflow
def retries(ctx: wf.DaprWorkflowContext, key: str) -> str:
    """An activity that fails twice, retried by Dapr's policy (new ids, one execution id)."""
    result = yield ctx.call_activity(flaky, input=key, retry_policy=RETRY)
    return result


@wfr.workflow
def failing(ctx: wf.DaprWorkflowContext, reason: str) -> Any:
    """An activity failure caught, then a failure of the workflow itself."""
    try:
        yield ctx.call_activity(broken, input=reason)
    except wf.TaskFailedError as exc:
        ctx.set_custom_status("caught")
        raise ValueError(f"workflow gives up: {exc}") from exc


@wfr.workflow
def counter(ctx: wf.DaprWorkflowContext, n: int) -> Any:
    """Continue-as-new until 3, keeping the events that arrived meanwhile."""
    if n >= 3:
        return n
    yield ctx.call_activity(double, input=n)
    ctx.continue_as_new(n + 1, save_events=True)


@wfr.workflow
def cross_app(ctx: wf.DaprWorkflowContext, name: str) -> Any:
    """An activity on another app, with history propagation."""
    from dapr.ext.workflow import PropagationScope

    hello = yield ctx.call_activity(
        "say", input=name, app_id="other-app", propagation=PropagationScope.OWN_HISTORY
    )
    return hello


@wfr.workflow
def timeouts(ctx: wf.DaprWorkflowContext, seconds: int) -> Any:
    """An event wait that times out, a zero-timeout wait, then ``when_any`` of an event and a
    timer."""
    outcomes = []
    for timeout in (timedelta(seconds=seconds), timedelta(0)):
        try:
            yield ctx.wait_for_external_event("never", timeout=timeout)
        except TimeoutError as exc:
            outcomes.append(str(exc))
    winner = yield wf.when_any(
        [ctx.wait_for_external_event("poke"), ctx.create_timer(timedelta(hours=1))]
    )
    outcomes.append(winner.get_result())
    return outcomes


@wfr.workflow
def carry(ctx: wf.DaprWorkflowContext, n: int) -> Any:
    """Events that arrive unawaited are carried over by ``continue_as_new(save_events=True)``."""
    if n >= 1:
        first = yield ctx.wait_for_external_event("extra")
        return {"n": n, "first": first}
    yield ctx.call_activity(double, input=n)
    ctx.continue_as_new(n + 1, save_events=True)


@wfr.workflow(name="shaky_child")
def shaky_child(ctx: wf.DaprWorkflowContext, key: str) -> str:
    result = yield ctx.call_activity(flaky, input=key)
    return result


@wfr.workflow
def child_retries(ctx: wf.DaprWorkflowContext, key: str) -> Any:
    """A child workflow that fails twice, retried (back-off timers name the child)."""
    result = yield ctx.call_child_workflow(shaky_child, input=key, retry_policy=RETRY)
    return result


@wfr.workflow
def patched(ctx: wf.DaprWorkflowContext, name: str) -> Any:
    """``is_patched``: the patches used go back in the response's version."""
    if ctx.is_patched("greeting-v2"):
        hello = yield ctx.call_activity(say_hello, input=name.upper())
    else:
        hello = yield ctx.call_activity(say_hello, input=name)
    return hello


@wfr.workflow
def no_retry(ctx: wf.DaprWorkflowContext, reason: str) -> Any:
    """A ``NonRetryableError`` is not retried, whatever the policy says."""
    yield ctx.call_activity(refuse, input=reason, retry_policy=RETRY)


@wfr.activity
def refuse(ctx: wf.WorkflowActivityContext, reason: str) -> None:
    from dapr.ext.workflow._durabletask.task import NonRetryableError

    raise NonRetryableError(reason)


@wfr.workflow
def inherits(ctx: wf.DaprWorkflowContext, _: Any) -> Any:
    """Reads the history its parent propagated (``propagation=`` on the parent's call)."""
    history = ctx.get_propagated_history()
    if history is None:
        return None
    said = [a.output for w in history.get_workflows() for a in w.get_activities_by_name("say")]
    return {"apps": history.get_app_ids(), "said": said}


@wfr.versioned_workflow(name="onboard", version_name="v1", is_latest=False)
def onboard_v1(ctx: wf.DaprWorkflowContext, name: str) -> Any:
    hello = yield ctx.call_activity(say_hello, input=name)
    return hello


@wfr.versioned_workflow(name="onboard", version_name="v2", is_latest=True)
def onboard_v2(ctx: wf.DaprWorkflowContext, name: str) -> Any:
    """The latest version: new instances run it; a request may pin ``v1``."""
    hello = yield ctx.call_activity(say_hello, input=name)
    twice = yield ctx.call_activity(double, input=len(hello))
    return [hello, twice]


SCENARIOS: dict[str, dict[str, Any]] = {
    "greeting": {"workflow": "greeting", "input": "bob", "events": [("approve", True)]},
    "fan_out": {"workflow": "fan_out", "input": 3, "events": [("go", "now")]},
    "parent": {"workflow": "parent", "input": 5, "events": []},
    "retries": {"workflow": "retries", "input": "k1", "events": []},
    "failing": {"workflow": "failing", "input": "disk full", "events": []},
    "counter": {"workflow": "counter", "input": 0, "events": []},
    "cross_app": {"workflow": "cross_app", "input": "ann", "events": []},
    "timeouts": {
        "workflow": "timeouts",
        "input": 30,
        "events": [("poke", 7)],
        "timeout_first": True,
    },
    "carry": {
        "workflow": "carry",
        "input": 0,
        "events": [],
        "early": [("extra", 0), ("extra", "b")],
    },
    "child_retries": {"workflow": "child_retries", "input": "c1", "events": []},
    "patched": {"workflow": "patched", "input": "eve", "events": []},
    "no_retry": {"workflow": "no_retry", "input": "no way", "events": []},
    "onboard": {"workflow": "onboard", "input": "kim", "events": []},
}
"""What the recorder runs: the workflow, its input, and the events it raises once waited for."""
