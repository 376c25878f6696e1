"""What a rewind changed, for people: the stepper's frames and ``show``, on turns the SDK's worker
served while ``samples.rewind_app`` was rewound (``fixtures/record_rewind_turns.py``).

The rewind turn of an orchestration whose activity failed (``rewind_act-turn4``) and of one
whose sub-orchestration failed (``rewind_sub-turn3``); a later turn that carries the
``executionRewound`` event in its past (``rewind_act-turn5``). The dropped events are checked
against the SDK executor's own rewind response."""

from __future__ import annotations

import json
from pathlib import Path

from appopts_support import keep_sys_path, run_cli  # noqa: F401 - autouse fixture
from test_rewind import _executor_response

from engine.app_loader import load_app
from engine.history import OrchestrationRequest
from engine.load import load_request
from engine.rewind import RewoundTask, rewind_view
from engine.session import ReplaySession

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ACT = FIXTURES / "rewind_act-turn4.b64"
SUB = FIXTURES / "rewind_sub-turn3.b64"
LATER = FIXTURES / "rewind_act-turn5.b64"


def _request(path: Path) -> OrchestrationRequest:
    return load_request(path)


def _kept_by_the_sdk(request: OrchestrationRequest) -> list[int]:
    """Indices of the request's events that the SDK executor's rewind history keeps."""
    (action,) = _executor_response(request.proto).actions
    kept = [e.SerializeToString() for e in action.rewindOrchestration.newHistory]
    events = [*request.proto.pastEvents, *request.proto.newEvents]
    found = []
    for index, event in enumerate(events):
        if event.HasField("executionStarted"):
            found.append(index)  # given a new execution id, so not byte-equal
        elif event.SerializeToString() in kept:
            found.append(index)
    return found


def test_the_view_of_a_rewind_turn_matches_the_sdks_rewind() -> None:
    for path, task in (
        (ACT, RewoundTask(2, "activity", "flaky_once")),
        (SUB, RewoundTask(1, "sub-orchestration", "rewound_activity")),
    ):
        request = _request(path)
        view = rewind_view(request.proto)
        assert view is not None and view.rewinds_now and view.reason == "try again"
        assert view.rewound == (task,)
        assert view.event_index == len(request) - 1
        kept = _kept_by_the_sdk(request)
        assert view.kept == len(kept)
        assert set(view.dropped) == set(range(len(request))) - set(kept)
    assert rewind_view(_request(ACT).proto).dropped == (6, 9, 11)  # type: ignore[union-attr]


def test_a_later_turn_says_where_it_was_rewound() -> None:
    view = rewind_view(_request(LATER).proto)
    assert view is not None and not view.rewinds_now
    assert view.event_index == 10 and view.rewound == () and view.dropped == ()
    assert rewind_view(load_request(FIXTURES / "rewind_act-turn3.b64").proto) is None


def test_the_stepper_shows_the_rewind_with_and_without_code() -> None:
    request = _request(ACT)
    for app in (load_app("samples.rewind_app"), None):
        session = ReplaySession(request, app)
        last = session.run_to_end()
        assert last.rewind is not None and last.rewind.rewound[0].name == "flaky_once"
        assert last.note.startswith("rewind ('try again'): runs activity 'flaky_once' (task 2)")
        assert last.status == "RUNNING" and last.failure is None and last.processed
        before = session.frame(11)  # executionCompleted: the failure the rewind undoes
        assert before.rewind is None and before.status == "FAILED"
        if app is not None:
            assert [a.kind for a in before.pending_actions] == ["completeOrchestration"]
            (action,) = last.pending_actions
            assert action.kind == "rewindOrchestration" and "11 events" in action.summary


def test_a_later_turn_marks_only_the_rewound_step() -> None:
    session = ReplaySession(_request(LATER), load_app("samples.rewind_app"))
    session.run_to_end()
    marked = [i for i in range(len(session.request)) if session.frame(i).rewind is not None]
    assert marked == [10]
    assert session.frame(10).note.startswith("rewound ('try again')")


def test_show_lists_what_the_rewind_changes() -> None:
    done = run_cli("show", str(ACT))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    dropped = [line.split()[0] for line in lines if line.endswith("(the rewind drops it)")]
    assert dropped == ["6", "9", "11"]
    assert "status:        RUNNING (from the history alone)" in lines
    assert "rewound task:  activity 'flaky_once' (task 2): scheduled again" in lines
    assert "dropped:       #6 #9 #11" in lines
    document = json.loads(run_cli("show", "--json", str(ACT)).stdout)
    assert document["rewind"] == {
        "eventIndex": 13,
        "reason": "try again",
        "rewindsNow": True,
        "rewound": [{"id": 2, "kind": "activity", "name": "flaky_once"}],
        "dropped": [6, 9, 11],
        "kept": 11,
    }
    later = run_cli("show", str(LATER)).stdout
    assert "rewound:       at #10: the failures before it are not in this history" in later
    plain = json.loads(run_cli("show", "--json", str(FIXTURES / "rewind_act-turn3.b64")).stdout)
    assert plain["rewind"] is None
