"""The legacy Durable Functions entity shape, replayed as the SDK executor replays it.

The Functions host writes an orchestration's entity messages to history as ``eventSent`` (a
JSON request message to ``@name@key``) and their replies as ``eventRaised`` named after the
request's id (ENTITIES.md 3.6). Histories here are built with the SDK's own event helpers, the
way such a host writes them, turn after turn; every turn's response must equal the SDK
executor's, field by field. The stepper (with code and history-only) must show the calls and
locks these events open.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from durabletask import task
from durabletask.entities import EntityInstanceId
from durabletask.internal import helpers as ph
from factories import both
from factories import session as replay_session

from engine import load_app
from engine.proto import orchestrator_service_pb2 as pb
from engine.timeline import BarKind, build_timeline

ROOT = Path(__file__).resolve().parents[2]
APP = str(Path(__file__).resolve().parent / "fixtures" / "legacy_app.py")
transfer = load_app(APP).functions["transfer"]
COUNTER = EntityInstanceId("counter", "k")
OTHER = EntityInstanceId("counter", "other")
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
INSTANCE = "o1"


def _ours(sdk_event: Any) -> pb.HistoryEvent:
    return pb.HistoryEvent.FromString(sdk_event.SerializeToString())


def _opening(n: int) -> pb.HistoryEvent:
    return _ours(ph.new_orchestrator_started_event(T0 + timedelta(seconds=n)))


def _legacy_sent(action: dict[str, Any]) -> pb.HistoryEvent | None:
    """The ``eventSent`` a Functions host writes for an entity action (None: not one)."""
    message = action.get("sendEntityMessage")
    if message is None:
        return None
    ((kind, body),) = message.items()
    request: dict[str, Any] = {"parent": INSTANCE}
    name = "op"
    if kind == "entityLockRequested":
        target = body["lockSet"][body.get("position", 0)]
        request.update(id=body["criticalSectionId"], lockset=body["lockSet"], pos=0)
    elif kind == "entityUnlockSent":
        target, name = body["targetInstanceId"], "release"
        request.update(id=body["criticalSectionId"])
    else:
        target = body["targetInstanceId"]
        request.update(id=body["requestId"], op=body["operation"])
        request.update(signal=kind == "entityOperationSignaled", input=body.get("input"))
    sent = ph.new_event_sent_event(int(action["id"]), target, json.dumps(request), name=name)
    return _ours(sent)


def _timer_created(action: dict[str, Any]) -> pb.HistoryEvent:
    fire_at = datetime.fromisoformat(action["createTimer"]["fireAt"].replace("Z", "+00:00"))
    return _ours(ph.new_timer_created_event(int(action["id"]), fire_at))


def _next_past(past: list[Any], new: list[Any], actions: list[dict[str, Any]]) -> list[Any]:
    out = [*past, *new]
    for action in actions:
        if "createTimer" in action:
            out.append(_timer_created(action))
        else:
            sent = _legacy_sent(action)
            if sent is not None:
                out.append(sent)
    out.append(_ours(ph.new_orchestrator_completed_event()))
    return out


def _reply(request_id: str, response: dict[str, Any]) -> pb.HistoryEvent:
    return _ours(ph.new_event_raised_event(request_id, json.dumps(response)))


def _entity_ids(actions: list[dict[str, Any]]) -> list[str]:
    """The ids the replies are named after: request ids of calls, critical sections of locks."""
    out = []
    for action in actions:
        for body in action.get("sendEntityMessage", {}).values():
            if "requestId" in body and "parentInstanceId" in body:
                out.append(body["requestId"])
            elif "lockSet" in body:
                out.append(body["criticalSectionId"])
    return out


Reply = Callable[[list[dict[str, Any]]], list[pb.HistoryEvent]]


def _run(fn: Callable[..., Any], replies: list[Reply]) -> tuple[list[Any], list[Any], Any]:
    """Run the orchestration turn by turn, each turn equal to the SDK's; the last turn's
    past and new events and its result."""
    past: list[Any] = []
    start = ph.new_execution_started_event(fn.__name__, INSTANCE)
    new: list[Any] = [_opening(0), _ours(start)]
    result = both(fn, past, new, instance=INSTANCE)
    assert result.ours == result.sdk, "turn 1"
    for number, reply in enumerate(replies, start=2):
        actions = result.ours.get("actions", [])
        past = _next_past(past, new, actions)
        new = [_opening(number), *reply(actions)]
        result = both(fn, past, new, instance=INSTANCE)
        assert result.ours == result.sdk, f"turn {number}"
    return past, new, result


def _answer(value: Any) -> Reply:
    return lambda actions: [_reply(_entity_ids(actions)[0], {"result": json.dumps(value)})]


def _granted(actions: list[dict[str, Any]]) -> list[pb.HistoryEvent]:
    section = _entity_ids(actions)[0]
    return [_reply(section, {"result": "Lock Acquisition Completed"})]


def _fired(actions: list[dict[str, Any]]) -> list[pb.HistoryEvent]:
    (timer,) = [a for a in actions if "createTimer" in a]
    fire_at = datetime.fromisoformat(timer["createTimer"]["fireAt"].replace("Z", "+00:00"))
    return [_ours(ph.new_timer_fired_event(int(timer["id"]), fire_at))]


# --- orchestrators -------------------------------------------------------------------------


def call_get(ctx: task.OrchestrationContext, _: Any) -> Any:
    value = yield ctx.call_entity(COUNTER, "get")
    return {"value": value}


def call_catching(ctx: task.OrchestrationContext, _: Any) -> Any:
    try:
        yield ctx.call_entity(COUNTER, "boom")
    except task.TaskFailedError as err:
        inner = err.details
        return [str(err), inner.error_type, inner.message]
    return "no failure"


def signal_then_wait(ctx: task.OrchestrationContext, _: Any) -> Any:
    ctx.signal_entity(COUNTER, "add", 5)
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=1))
    return "signalled"


# --- responses equal to the SDK's ------------------------------------------------------------


def test_a_call_and_its_reply_give_the_sdk_response() -> None:
    _, _, result = _run(call_get, [_answer(42)])
    assert result.completion is not None
    assert result.completion["result"] == '{"value": 42}'
    assert result.outcome.nondeterminism is None


def test_failed_replies_give_the_sdk_failure() -> None:
    failed_by_type: Reply = lambda actions: [  # noqa: E731
        _reply(
            _entity_ids(actions)[0],
            {"result": json.dumps("it broke"), "exceptionType": "System.Exception"},
        )
    ]
    _, _, result = _run(call_catching, [failed_by_type])
    assert result.completion is not None
    caught = json.loads(result.completion["result"])
    assert caught[1].endswith("EntityOperationFailedException")
    assert "it broke" in caught[0]
    core = {
        "ErrorType": "InvalidOperationException",
        "ErrorMessage": "no",
        "StackTrace": "at Counter.Boom()",
        "InnerFailure": {"ErrorType": "Inner", "ErrorMessage": "deeper"},
        "IsNonRetriable": True,
        "Properties": {"attempt": 2, "where": "here"},
    }
    with_details: Reply = lambda actions: [  # noqa: E731
        _reply(_entity_ids(actions)[0], {"failureDetails": core})
    ]
    _, _, result = _run(call_get, [with_details])  # unhandled: the orchestration fails
    assert result.completion is not None
    assert result.completion["orchestrationStatus"] == "ORCHESTRATION_STATUS_FAILED"
    assert "deeper" in json.dumps(result.completion["failureDetails"])


def test_signals_locks_and_releases_give_the_sdk_responses() -> None:
    _, _, result = _run(signal_then_wait, [_fired])
    assert result.completion is not None and result.completion["result"] == '"signalled"'
    past, _, result = _run(transfer, [_granted, _answer(7), _fired])
    assert result.completion is not None and result.completion["result"] == "7"
    releases = [e for e in past if e.HasField("eventSent") and e.eventSent.name == "release"]
    assert sorted(e.eventSent.instanceId for e in releases) == ["@counter@k", "@counter@other"]


# --- mismatches and malformed messages, as the SDK reports them -----------------------------


def _turn_two(fn: Callable[..., Any], reply: Reply) -> tuple[list[Any], list[Any]]:
    past, new, _ = _run(fn, [])
    result = both(fn, past, new, instance=INSTANCE)
    actions = result.ours.get("actions", [])
    return _next_past(past, new, actions), [_opening(1), *reply(actions)]


def test_an_event_sent_to_another_entity_is_a_mismatch_explained() -> None:
    past, new = _turn_two(call_get, _answer(1))
    (sent,) = [e for e in past if e.HasField("eventSent")]
    sent.eventSent.instanceId = "@counter@elsewhere"
    result = both(call_get, past, new, instance=INSTANCE)
    assert result.ours == result.sdk
    found = result.outcome.nondeterminism
    assert found is not None
    assert found.recorded.startswith(f"eventSent #{sent.eventId}")
    assert "call_entity" in found.message and "send_event" in found.message
    assert found.location is not None and found.location.function == "call_get"


def test_malformed_requests_and_wrong_grants_fail_as_in_the_sdk() -> None:
    past, new = _turn_two(call_get, _answer(1))
    (sent,) = [e for e in past if e.HasField("eventSent")]
    sent.eventSent.input.value = "not json"
    result = both(call_get, past, new, instance=INSTANCE)
    assert result.ours == result.sdk
    assert "Could not parse event ID from eventSent input 'not json'" in json.dumps(result.ours)
    past, new = _turn_two(transfer, _granted)
    (sent,) = [e for e in past if e.HasField("eventSent")]
    body = json.loads(sent.eventSent.input.value)
    body["id"] = "another-section"
    sent.eventSent.input.value = json.dumps(body)
    new = [_opening(1), _reply("another-section", {"result": "Lock Acquisition Completed"})]
    result = both(transfer, past, new, instance=INSTANCE)
    assert result.ours == result.sdk
    assert "Unexpected lock acquire for critical section ID 'another-section'" in json.dumps(
        result.ours
    )


# --- the stepper, with code and history-only -------------------------------------------------


def _open_tasks(fn: Callable[..., Any] | None, past: list[Any], new: list[Any]) -> Any:
    s = replay_session(fn, past, new, instance=INSTANCE)
    s.advance()
    count = len(past) + len(new)
    return [s.frame(i) for i in range(count)]


def test_the_stepper_shows_legacy_calls_and_locks() -> None:
    past, new, _ = _run(transfer, [_granted, _answer(7), _fired])
    for fn in (transfer, None):
        frames = _open_tasks(fn, past, new)
        seen = {(t.kind, t.name) for f in frames for t in f.open_tasks}
        assert ("entity call", "@counter@k get") in seen, fn
        assert ("held lock", "@counter@k, @counter@other") in seen, fn
        # history-only cannot know the completion: it is in this turn's response, not its events
        assert frames[-1].status == ("COMPLETED" if fn else "RUNNING")
        assert frames[-1].failure is None
        assert frames[-1].open_tasks == ()
        assert not any("#-" in f.note for f in frames)
    history_only = _open_tasks(None, past, new)
    notes = " ".join(f.note for f in history_only)
    assert "entity call '@counter@k get' completed" in notes


def test_the_timeline_draws_legacy_calls_and_signals() -> None:
    past, new, _ = _run(transfer, [_granted, _answer(7), _fired])
    bars = build_timeline([*past, *new]).bars
    (call,) = [b for b in bars if b.kind is BarKind.ENTITY]
    assert call.label == "@counter@k get" and call.last is not None and not call.failed
    assert [b.label for b in bars if b.point] == ["signal @counter@free add"]
    past, new, _ = _run(call_get, [lambda a: [_reply(_entity_ids(a)[0], {"exceptionType": "E"})]])
    (call,) = [b for b in build_timeline([*past, *new]).bars if b.kind is BarKind.ENTITY]
    assert call.failed and call.last == len(past) + len(new) - 1


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_replay_and_show_read_the_legacy_shape(tmp_path: Path) -> None:
    past, new, result = _run(transfer, [_granted, _answer(7)])
    msg = pb.OrchestratorRequest(instanceId=INSTANCE, pastEvents=past, newEvents=new)
    path = tmp_path / "legacy.b64"
    path.write_text(base64.b64encode(msg.SerializeToString()).decode())
    replayed = _cli("replay", str(path), "--app", APP, "--json")
    assert replayed.returncode == 0, replayed.stderr
    response = json.loads(replayed.stdout)
    assert response["actions"] == result.sdk["actions"]  # unlocks, the signal and the timer
    shown = _cli("show", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "held lock @counter@k, @counter@other" in shown.stdout  # from the events alone
    assert "#-" not in shown.stdout  # never an internal number


# --- the app's data converter decides entity payloads, as in the SDK ---------------------------


def priced(ctx: task.OrchestrationContext, _: Any) -> Any:
    from decimal import Decimal

    ctx.signal_entity(OTHER, "add", Decimal("0.25"))
    first = yield ctx.call_entity(COUNTER, "price", Decimal("1.50"))
    second = yield ctx.call_entity(COUNTER, "price", Decimal("2"))
    return {"sum": first + second}


def test_entity_payloads_go_through_the_apps_data_converter() -> None:
    """Call and signal inputs, and replies in both shapes, with a converter of the app's own:
    ours equal the SDK executor's built with the same converter."""
    import dataclasses
    import logging

    from durabletask import worker as dt_worker
    from durabletask.internal import orchestrator_service_pb2 as sdk_pb
    from factories import app_of, request, to_sdk
    from google.protobuf import json_format
    from replay_compare import normalized

    from engine import replay_request
    from engine.app_options import AppOptions
    from samples.converter_worker import TaggedConverter

    converter = TaggedConverter()
    app = dataclasses.replace(app_of(priced), options=AppOptions(data_converter=converter))

    def turn(past: list[Any], new: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        ours = replay_request(request(past, new, INSTANCE), app).response
        registry = dt_worker._Registry()
        registry.add_orchestrator(priced)
        logger = logging.getLogger("tests.entities.converter")
        logger.disabled = True
        executor = dt_worker._OrchestrationExecutor(registry, logger, converter)
        result = executor.execute(INSTANCE, to_sdk(past), to_sdk(new))
        theirs = sdk_pb.OrchestratorResponse(instanceId=INSTANCE, actions=result.actions)
        return normalized(ours), normalized(
            pb.OrchestratorResponse.FromString(theirs.SerializeToString())
        )

    start = ph.new_execution_started_event("priced", INSTANCE)
    new: list[Any] = [_opening(0), _ours(start)]
    ours, theirs = turn([], new)
    assert ours == theirs
    called = ours["actions"][1]["sendEntityMessage"]["entityOperationCalled"]
    assert called["input"] == '{"$decimal": "1.50"}'  # the app's converter wrote it
    # the first reply in the new shape, the second in the legacy one
    past = [*new]
    for action in ours["actions"]:  # each message written to history as it was sent
        ((kind, body),) = action["sendEntityMessage"].items()
        event = pb.HistoryEvent(eventId=int(action["id"]))
        json_format.ParseDict(body, getattr(event, kind))
        past.append(event)
    call_id = ours["actions"][1]["sendEntityMessage"]["entityOperationCalled"]["requestId"]
    done = pb.HistoryEvent(eventId=-1)
    done.entityOperationCompleted.requestId = call_id
    done.entityOperationCompleted.output.value = '{"$decimal": "3.15"}'
    ours, theirs = turn(past, [_opening(1), done])
    assert ours == theirs
    past = _next_past(past, [_opening(1), done], ours.get("actions", []))
    second = ours["actions"][0]["sendEntityMessage"]["entityOperationCalled"]["requestId"]
    reply = _reply(second, {"result": '{"$decimal": "4.20"}'})
    ours, theirs = turn(past, [_opening(2), reply])
    assert ours == theirs
    assert ours["actions"][-1]["completeOrchestration"]["result"] == '{"sum": {"$decimal": "7.35"}}'
