"""The headless replay's rewind check: a turn with many new events is scanned for
``executionRewound`` by the replay itself, and is refused as a turn with few new events is
(before the replay ran), whether the code ran to the end, failed or was suspended."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import ReplayError
from engine.headless import replay_request
from tests.factories import (
    app_of,
    execution_completed,
    orchestrator_completed,
    orchestrator_started,
    request,
    started,
    suspended,
    task_completed,
    task_scheduled,
)

_REWOUND_FIELD = 30  # HistoryEvent.executionRewound


def _rewound() -> Any:
    from engine.proto import orchestrator_service_pb2 as pb

    ev = pb.HistoryEvent(eventId=-1)
    ev.timestamp.SetInParent()
    ev.executionRewound.SetInParent()
    assert ev.DESCRIPTOR.fields_by_name["executionRewound"].number == _REWOUND_FIELD
    return ev


def _many(ctx: Any, count: int) -> Any:
    total = 0
    for i in range(count):
        total += yield ctx.call_activity("a", input=i)
    return total


def _failing(ctx: Any, _: Any) -> Any:
    yield ctx.call_activity("a")
    raise RuntimeError("boom")


def _past(name: str) -> list[Any]:
    return [
        orchestrator_started(),
        started(name, input="12"),
        task_scheduled(1, "a"),
        orchestrator_completed(),
        execution_completed(3, failure=None),
    ]


@pytest.mark.parametrize(
    ("orchestrator", "extra"),
    [
        (_many, [task_completed(1, "1")]),
        (_failing, [task_completed(1, "1")]),
        (_many, [suspended("hold"), task_completed(1, "1")]),
    ],
)
def test_many_new_events_with_a_rewind_are_refused(orchestrator: Any, extra: list[Any]) -> None:
    new = [orchestrator_started(), *extra, *(orchestrator_started() for _ in range(10))]
    new.insert(len(new) - 3, _rewound())
    req = request(_past(orchestrator.__name__), new)
    with pytest.raises(ReplayError, match="cannot rewind: When rewinding an orchestration"):
        replay_request(req, app_of(orchestrator))


def test_few_new_events_with_a_rewind_are_refused_too() -> None:
    req = request(_past("_many"), [orchestrator_started(), task_completed(1, "1"), _rewound()])
    with pytest.raises(ReplayError, match="cannot rewind: When rewinding an orchestration"):
        replay_request(req, app_of(_many))


def test_a_rewound_event_without_a_completed_run_is_no_rewind() -> None:
    past = _past("_many")[:-1]
    new = [orchestrator_started(), task_completed(1, "1"), _rewound()]
    new += [orchestrator_started() for _ in range(10)]
    outcome = replay_request(request(past, new), app_of(_many))
    assert outcome.response.actions[0].HasField("scheduleTask")
