"""Hold rules without a terminal or a sidecar: the parser, the matching and the gate."""

from __future__ import annotations

import threading

import pytest

from engine import live
from engine.holds import HoldGate, HoldRule, matches_any, parse_rule
from engine.proto import orchestrator_service_pb2 as pb


def _turn(instance: str = "sample-1", name: str = "wait_for_approval") -> bytes:
    started = pb.HistoryEvent(eventId=-1)
    started.executionStarted.name = name
    started.executionStarted.orchestrationInstance.instanceId = instance
    raised = pb.HistoryEvent(eventId=-1)
    raised.eventRaised.name = "Approval"
    request = pb.OrchestratorRequest(instanceId=instance)
    request.pastEvents.append(started)
    request.newEvents.append(raised)
    return request.SerializeToString()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Approval", HoldRule(name="Approval")),
        ("kind=eventRaised", HoldRule(kind="eventRaised")),
        (
            "  kind=timerFired   name=x instance=sample-  ",
            HoldRule(kind="timerFired", name="x", instance="sample-"),
        ),
        ("instance=a=b", HoldRule(instance="a=b")),
    ],
)
def test_parse_rule_reads_each_field(text: str, rule: HoldRule) -> None:
    assert parse_rule(text) == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour=red", "unknown field 'colour': use kind=, name= or instance="),
        ("kind=", "kind= needs a value"),
        ("name=a name=b", "name= given twice: a rule matches one name"),
        ("a b", "name= given twice: a rule matches one name"),
        ("   ", "an empty rule: give kind=, name= or instance="),
    ],
)
def test_parse_rule_rejects_with_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_rule(text)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_rules_match_a_turn() -> None:
    request = pb.OrchestratorRequest.FromString(_turn())
    assert matches_any([], request)
    assert HoldRule(kind="eventRaised").matches(request)
    assert HoldRule(kind="EVENTRAISED").matches(request)
    assert not HoldRule(kind="timerFired").matches(request)
    assert HoldRule(name="Approval", instance="sample-").matches(request)
    assert not HoldRule(name="Approval", instance="other").matches(request)
    assert HoldRule(name="orchestrator-given", instance="sample").matches(
        request, "orchestrator-given"
    )
    assert matches_any([HoldRule(kind="timerFired"), HoldRule(name="Approval")], request)
    assert not matches_any([HoldRule(kind="timerFired")], request)
    # still importable from where they used to live
    assert live.HoldRule is HoldRule and live.matches_any is matches_any


def test_gate_toggles_rules_and_holds_one_matching_turn() -> None:
    gate = HoldGate()
    assert gate.describe() == "any turn" and not gate.armed
    gate.toggle("instance=held")
    gate.toggle("kind=timerFired")
    assert gate.describe() == "instance=held, kind=timerFired"
    gate.toggle("kind=timerFired")  # the same rule again removes it
    assert gate.rules == (HoldRule(instance="held"),)
    with pytest.raises(ValueError):
        gate.toggle("kind=")
    assert gate.rules == (HoldRule(instance="held"),)

    assert not gate.take(_turn("held-1"))  # not armed
    assert gate.toggle_armed()
    assert not gate.take(_turn("other"))  # armed, no match: stays armed
    assert gate.armed
    assert gate.take(_turn("held-1"))
    assert not gate.armed  # one turn per arming
    assert not gate.take(_turn("held-2"))
    gate.toggle("")
    assert gate.rules == ()


def test_gate_holds_exactly_one_of_many_turns_finishing_at_once() -> None:
    gate = HoldGate()
    gate.toggle_armed()
    turn = _turn()
    start = threading.Barrier(8)
    taken: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait()
        answer = gate.take(turn)
        with lock:
            taken.append(answer)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(taken) == [False] * 7 + [True]
