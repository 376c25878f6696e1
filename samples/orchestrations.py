"""Sample orchestrations and activities for recording real Durable Task turns.

Every function here is written against the public API of the durabletask Python SDK, exactly
as a user of the SDK would write it: orchestrators are ``def name(ctx, input)`` functions
(generators that ``yield`` tasks, or one plain function that returns at once) and activities
are ``def name(ctx, input)`` functions.

The samples exist so that :mod:`samples.record` can run them through the SDK's own worker and
in-memory sidecar and capture every ``OrchestratorRequest``/``OrchestratorResponse`` pair. Each
orchestrator exercises one feature of the replay semantics (activities, timers, external
events, sub-orchestrations, retries, failures, continue-as-new, custom status, suspension,
termination, ...), so the recordings cover the event and action kinds the inspector must
understand.

Rules the samples follow so that recordings replay deterministically:

* Orchestrators only use the context for time (``ctx.current_utc_datetime``) and ids
  (``ctx.new_uuid()``); nothing reads the wall clock or random numbers.
* Timers are short (at most 3 seconds) so recording stays fast.
* ``RetryPolicy`` never uses ``retry_timeout`` (the SDK compares it with the wall clock).
* The only state kept outside the orchestration is the per-instance attempt counter of
  :func:`flaky_activity`; :func:`reset_state` clears it before a recording run.

Registration: :data:`ORCHESTRATORS`, :data:`ACTIVITIES` and :data:`ALL` list every function;
:func:`register` adds them all to anything with ``add_orchestrator``/``add_activity`` (a
``TaskHubGrpcWorker`` or the SDK's executor registry).

The split-timer samples (:data:`SPLIT_TIMER_ORCHESTRATORS`) only split their timer when the
worker runs with a small ``maximum_timer_interval``; the recorder gives them a worker of their
own configured with :data:`SPLIT_TIMER_MAXIMUM_INTERVAL`, and replaying their turns must use
the same setting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from datetime import timedelta
from typing import Any

from durabletask import task

OrchestratorGen = Generator[task.Task[Any], Any, Any]

# Maximum timer interval the recorder's second worker uses, so that the split-timer samples
# below have their timers cut into chunks. With the SDK default (3 days) they do not split.
SPLIT_TIMER_MAXIMUM_INTERVAL = timedelta(seconds=1)

# ---------------------------------------------------------------------------------------------
# Activities
# ---------------------------------------------------------------------------------------------

_attempts: dict[str, int] = {}
_attempts_lock = threading.Lock()


def reset_state() -> None:
    """Forget the attempt counters kept by :func:`flaky_activity`."""
    with _attempts_lock:
        _attempts.clear()


def say_hello(ctx: task.ActivityContext, name: str) -> str:
    """Return a greeting for ``name``."""
    return f"Hello, {name}!"


def square(ctx: task.ActivityContext, value: int) -> int:
    """Return ``value`` squared."""
    return value * value


def add_numbers(ctx: task.ActivityContext, values: list[int]) -> int:
    """Return the sum of ``values``."""
    return sum(values)


def echo(ctx: task.ActivityContext, value: Any) -> Any:
    """Return the input unchanged."""
    return value


def flaky_activity(ctx: task.ActivityContext, value: str) -> str:
    """Fail the first two attempts for each orchestration instance, then succeed."""
    with _attempts_lock:
        count = _attempts.get(ctx.orchestration_id, 0) + 1
        _attempts[ctx.orchestration_id] = count
    if count <= 2:
        raise RuntimeError(f"transient failure on attempt {count}")
    return f"{value} succeeded on attempt {count}"


def always_fails(ctx: task.ActivityContext, value: Any) -> None:
    """Always raise, to exercise failure handling and exhausted retries."""
    raise ValueError(f"activity always fails (input {value!r})")


# ---------------------------------------------------------------------------------------------
# Orchestrators: activities
# ---------------------------------------------------------------------------------------------


def single_activity(ctx: task.OrchestrationContext, name: str) -> OrchestratorGen:
    """Call one activity and return its result."""
    greeting = yield ctx.call_activity(say_hello, input=name or "World")
    return greeting


def activity_chain(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Call three activities one after another, feeding each result to the next."""
    results = []
    for city in ("Tokyo", "Seattle", "London"):
        results.append((yield ctx.call_activity(say_hello, input=city)))
    total = yield ctx.call_activity(add_numbers, input=[len(r) for r in results])
    return {"greetings": results, "total_length": total}


def fan_out_fan_in(ctx: task.OrchestrationContext, count: int) -> OrchestratorGen:
    """Schedule ``count`` activities at once and wait for all of them with ``when_all``."""
    tasks = [ctx.call_activity(square, input=i) for i in range(1, (count or 4) + 1)]
    squares = yield task.when_all(tasks)
    total = yield ctx.call_activity(add_numbers, input=squares)
    return {"squares": squares, "sum": total}


# ---------------------------------------------------------------------------------------------
# Orchestrators: timers
# ---------------------------------------------------------------------------------------------


def durable_timer(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Sleep on a one-second durable timer created from a timedelta."""
    started = ctx.current_utc_datetime
    yield ctx.create_timer(timedelta(seconds=1))
    return {"slept_from": started.isoformat(), "woke_at": ctx.current_utc_datetime.isoformat()}


def split_timer(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Wait on a timer given as an absolute datetime 2.5 s ahead.

    Run with ``maximum_timer_interval`` of one second, the SDK splits it into three
    ``createTimer`` actions (1 s, 1 s, 0.5 s) and completes the task on the last fire only.
    """
    fire_at = ctx.current_utc_datetime + timedelta(seconds=2.5)
    yield ctx.create_timer(fire_at)
    return {"fired_at": ctx.current_utc_datetime.isoformat()}


def split_timer_or_event(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Race a split timer (3 s ahead) against the external event ``Cancel``.

    The recorder raises the event after the first chunk of the timer has fired, so the event
    wins while a later chunk of the timer is still outstanding.
    """
    timer = ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=3))
    cancel = ctx.wait_for_external_event("Cancel")
    winner = yield task.when_any([timer, cancel])
    if winner is cancel:
        return {"winner": "event", "reason": cancel.get_result()}
    return {"winner": "timer"}


# ---------------------------------------------------------------------------------------------
# Orchestrators: external events
# ---------------------------------------------------------------------------------------------


def wait_for_approval(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Wait for the event ``Approval``; the client raises it as ``APPROVAL``."""
    approval = yield ctx.wait_for_external_event("Approval")
    return {"approval": approval}


def buffered_event(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Receive the event ``Ready`` while still sleeping, then pick it up from the buffer."""
    yield ctx.create_timer(timedelta(seconds=1))
    ready = yield ctx.wait_for_external_event("Ready")
    return {"ready": ready}


def race_activity_timer(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Race an activity against a 2 s timer; the activity wins and the timer stays pending."""
    work = ctx.call_activity(echo, input="fast work")
    timeout = ctx.create_timer(timedelta(seconds=2))
    winner = yield task.when_any([work, timeout])
    if winner is work:
        return {"winner": "activity", "result": work.get_result()}
    return {"winner": "timer"}


def race_event_timer(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Race the event ``Ping`` (never raised) against a 1 s timer; the timer wins."""
    ping = ctx.wait_for_external_event("Ping")
    timeout = ctx.create_timer(timedelta(seconds=1))
    winner = yield task.when_any([ping, timeout])
    if winner is timeout:
        return {"winner": "timer"}
    return {"winner": "event", "data": ping.get_result()}


# ---------------------------------------------------------------------------------------------
# Orchestrators: sub-orchestrations
# ---------------------------------------------------------------------------------------------


def child_greeting(ctx: task.OrchestrationContext, name: str) -> OrchestratorGen:
    """Sub-orchestration: greet ``name`` through an activity."""
    greeting = yield ctx.call_activity(say_hello, input=name)
    return {"child": ctx.instance_id, "greeting": greeting}


def child_failure(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Sub-orchestration that fails after one activity."""
    yield ctx.call_activity(echo, input="before failing")
    raise RuntimeError("child orchestration failed on purpose")


def parent_orchestration(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Call a sub-orchestration with a generated id, then one with an explicit id."""
    first = yield ctx.call_sub_orchestrator(child_greeting, input="first child")
    second = yield ctx.call_sub_orchestrator(
        child_greeting, input="second child", instance_id=f"{ctx.instance_id}-explicit-child"
    )
    return [first, second]


def parent_catches_child_failure(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Call a failing sub-orchestration and catch its ``TaskFailedError``."""
    try:
        yield ctx.call_sub_orchestrator(
            child_failure, instance_id=f"{ctx.instance_id}-failing-child"
        )
    except task.TaskFailedError as err:
        return {"caught": True, "message": err.details.message}
    return {"caught": False}


# ---------------------------------------------------------------------------------------------
# Orchestrators: retries and failures
# ---------------------------------------------------------------------------------------------


def retry_until_success(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Call :func:`flaky_activity` with a RetryPolicy; attempts 1 and 2 fail, 3 succeeds."""
    policy = task.RetryPolicy(
        first_retry_interval=timedelta(milliseconds=300),
        max_number_of_attempts=5,
        backoff_coefficient=1.0,
    )
    result = yield ctx.call_activity(flaky_activity, input="flaky", retry_policy=policy)
    return result


def retry_exhausted(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Call :func:`always_fails` with a 3-attempt RetryPolicy; the failure is not caught."""
    policy = task.RetryPolicy(
        first_retry_interval=timedelta(milliseconds=200),
        max_number_of_attempts=3,
        backoff_coefficient=2.0,
    )
    yield ctx.call_activity(always_fails, input="doomed", retry_policy=policy)
    return "unreachable"


def caught_activity_failure(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Catch a failed activity with ``try/except task.TaskFailedError`` and recover."""
    try:
        yield ctx.call_activity(always_fails, input="catch me")
    except task.TaskFailedError as err:
        recovered = yield ctx.call_activity(echo, input="recovered")
        return {
            "error_type": err.details.error_type,
            "message": err.details.message,
            "then": recovered,
        }
    return {"error_type": None}


def uncaught_failure(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Run one activity, then raise ``ValueError`` so the orchestration fails."""
    value = yield ctx.call_activity(echo, input=41)
    raise ValueError(f"orchestrator gave up after receiving {value}")


# ---------------------------------------------------------------------------------------------
# Orchestrators: continue-as-new
# ---------------------------------------------------------------------------------------------


def continue_as_new_counter(ctx: task.OrchestrationContext, count: int) -> OrchestratorGen:
    """Count from 0 to 3, continuing as new after each step (three restarts)."""
    count = count or 0
    yield ctx.call_activity(echo, input=count)
    if count < 3:
        ctx.continue_as_new(count + 1)
        return None
    return {"final_count": count}


def continue_as_new_with_events(ctx: task.OrchestrationContext, state: Any) -> OrchestratorGen:
    """Collect three ``Item`` events, one per execution, carrying unread ones over.

    The first execution sleeps for 1.5 s while the client raises all three events; it then
    reads one and continues as new with ``save_events=True``, so the two unread events are
    carried over into the next execution, which reads one and carries the last one over.
    """
    items = list((state or {}).get("items", []))
    if not items:
        yield ctx.create_timer(timedelta(seconds=1.5))
    item = yield ctx.wait_for_external_event("Item")
    items.append(item)
    if len(items) < 3:
        ctx.continue_as_new({"items": items}, save_events=True)
        return None
    return {"items": items}


# ---------------------------------------------------------------------------------------------
# Orchestrators: custom status, events between instances, lifecycle
# ---------------------------------------------------------------------------------------------


def custom_status_progress(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Change the custom status on every turn."""
    ctx.set_custom_status({"stage": "started"})
    first = yield ctx.call_activity(say_hello, input="status")
    ctx.set_custom_status({"stage": "activity done", "result": first})
    yield ctx.create_timer(timedelta(milliseconds=500))
    ctx.set_custom_status("finished")
    return first


def event_receiver(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Wait for the event ``Ping`` sent by another orchestration."""
    payload = yield ctx.wait_for_external_event("Ping")
    return {"received": payload}


def event_sender(ctx: task.OrchestrationContext, target_instance_id: str) -> OrchestratorGen:
    """Send the event ``PING`` to another running instance with ``send_event``."""
    greeting = yield ctx.call_activity(say_hello, input="receiver")
    ctx.send_event(target_instance_id, "PING", data={"from": ctx.instance_id, "text": greeting})
    return {"sent_to": target_instance_id}


def suspendable(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Wait for ``Go``; the client suspends it, raises ``Go`` while suspended, then resumes."""
    go = yield ctx.wait_for_external_event("Go")
    done = yield ctx.call_activity(echo, input=go)
    return {"go": done}


def terminable(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Wait for an event that never comes; the client terminates the instance."""
    ctx.set_custom_status("waiting to be terminated")
    never = yield ctx.wait_for_external_event("NeverRaised")
    return never


# ---------------------------------------------------------------------------------------------
# Orchestrators: deterministic helpers
# ---------------------------------------------------------------------------------------------


def new_uuids(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Generate ids with ``new_uuid`` across two turns; replay must reproduce them."""
    first = ctx.new_uuid()
    second = ctx.new_uuid()
    echoed = yield ctx.call_activity(echo, input=first)
    third = ctx.new_uuid()
    return {"ids": [first, second, third], "echo_matches": echoed == first}


def replay_flags(ctx: task.OrchestrationContext, _: Any) -> OrchestratorGen:
    """Record ``is_replaying`` at the start and after each of three awaited tasks."""
    flags = [ctx.is_replaying]
    yield ctx.call_activity(echo, input=1)
    flags.append(ctx.is_replaying)
    yield ctx.create_timer(timedelta(milliseconds=300))
    flags.append(ctx.is_replaying)
    yield ctx.call_activity(echo, input=2)
    flags.append(ctx.is_replaying)
    return flags


def plain_function(ctx: task.OrchestrationContext, value: Any) -> Any:
    """A non-generator orchestrator: it completes in its first turn."""
    return {"doubled": (value or 0) * 2, "instance": ctx.instance_id}


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------

ACTIVITIES: list[Callable[..., Any]] = [
    say_hello,
    square,
    add_numbers,
    echo,
    flaky_activity,
    always_fails,
]

ORCHESTRATORS: list[Callable[..., Any]] = [
    single_activity,
    activity_chain,
    fan_out_fan_in,
    durable_timer,
    split_timer,
    split_timer_or_event,
    wait_for_approval,
    buffered_event,
    race_activity_timer,
    race_event_timer,
    child_greeting,
    child_failure,
    parent_orchestration,
    parent_catches_child_failure,
    retry_until_success,
    retry_exhausted,
    caught_activity_failure,
    uncaught_failure,
    continue_as_new_counter,
    continue_as_new_with_events,
    custom_status_progress,
    event_receiver,
    event_sender,
    suspendable,
    terminable,
    new_uuids,
    replay_flags,
    plain_function,
]

# Orchestrators whose timers only split under SPLIT_TIMER_MAXIMUM_INTERVAL.
SPLIT_TIMER_ORCHESTRATORS: list[Callable[..., Any]] = [split_timer, split_timer_or_event]

ALL: list[Callable[..., Any]] = ORCHESTRATORS + ACTIVITIES

ORCHESTRATORS_BY_NAME: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in ORCHESTRATORS}
ACTIVITIES_BY_NAME: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in ACTIVITIES}


def register(target: Any, *, orchestrators: bool = True, activities: bool = True) -> Any:
    """Register the samples on ``target`` (a worker or the SDK registry) and return it."""
    if orchestrators:
        for fn in ORCHESTRATORS:
            target.add_orchestrator(fn)
    if activities:
        for fn in ACTIVITIES:
            target.add_activity(fn)
    return target
