"""``show`` and ``open`` on Dapr-encoded requests: detection, ``--dialect``, Dapr's conventions.

The requests in ``tests/dapr_workflow/fixtures/requests/`` were built turn by turn by Dapr's own
executor (``tests/dapr_workflow/make_requests.py``, run in a process with Dapr's packages: they
cannot be loaded beside durabletask, which this process holds).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import LoadError
from engine.load import load_recording, load_request
from engine.proto import dapr_workflow_pb2 as dpb
from engine.session import ReplaySession
from tests.dapr_workflow.conftest import FIXTURES, ROOT

REQUESTS = FIXTURES / "requests"
APPROVAL = REQUESTS / "approval-turn3.b64"
DEADLINE = REQUESTS / "deadline-turn3.b64"
SAMPLES = sorted((ROOT / "samples" / "requests").glob("*-turn*.b64"))


def _inspector(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dapr_requests_are_detected() -> None:
    request = load_request(APPROVAL)
    assert request.dialect == "dapr"
    assert request.orchestration_name == "approval"
    facts = request.dapr_facts(2)  # taskScheduled, routed to another app
    assert facts.router is not None and facts.router.target_app_id == "billing"
    assert facts.task_execution_id
    assert request.dapr_facts(5).timer_origin.key == "go"


def test_microsoft_requests_stay_microsoft() -> None:
    """No recorded SDK request is taken for Dapr's (the samples hold every kind of event)."""
    responses = [p for p in SAMPLES if ".response." in p.name]
    requests = [p for p in SAMPLES if ".response." not in p.name]
    assert len(requests) > 40
    for path in requests:
        assert load_request(path).dialect == "durabletask", path.name
    for path in responses[:5]:
        assert (
            not hasattr(load_recording(path), "dialect")
            or load_recording(path).dialect == "durabletask"
        )


def test_forced_dialects(tmp_path: Path) -> None:
    assert load_request(APPROVAL, "dapr").dialect == "dapr"
    with pytest.raises(LoadError, match="not a protobuf OrchestratorRequest"):
        load_request(APPROVAL, "durabletask")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\xff\xff\xff")
    with pytest.raises(LoadError, match="not a Dapr WorkflowRequest"):
        load_request(junk, "dapr")


def test_dapr_json_and_work_items_are_read(tmp_path: Path) -> None:
    from google.protobuf import json_format

    raw = base64.b64decode(APPROVAL.read_bytes())
    message = dpb.WorkflowRequest.FromString(raw)
    as_json = tmp_path / "req.json"
    as_json.write_text(json_format.MessageToJson(message))
    item = tmp_path / "item.bin"
    item.write_bytes(dpb.WorkItem(workflowRequest=message, completionToken="3").SerializeToString())
    for path in (as_json, item):
        request = load_request(path)
        assert request.dialect == "dapr" and len(request) == 8, path.name


def test_the_wait_behind_an_event_is_not_a_timer_and_closes_when_the_event_arrives() -> None:
    session = ReplaySession(load_request(APPROVAL))
    frames = [session.frame(i) for i in range(session.total)]
    (activity,) = frames[2].open_tasks
    assert (activity.kind, activity.name) == ("activity", "say in app 'billing'")
    (wait,) = frames[5].open_tasks
    assert (wait.kind, wait.name) == ("external event", "go (no timeout)")
    assert frames[7].open_tasks == ()
    assert frames[7].status == "RUNNING"


def test_a_wait_with_a_timeout_stays_open_for_another_event() -> None:
    session = ReplaySession(load_request(DEADLINE))
    last = session.frame(session.total - 1)
    (wait,) = last.open_tasks
    assert wait.kind == "external event"
    assert wait.name == "go (times out at 2025-01-01T12:00:31Z)"


def test_show_lists_dapr_facts_and_no_open_timer() -> None:
    done = _inspector("show", str(APPROVAL))
    assert done.returncode == 0, done.stderr
    assert "dialect:       dapr" in done.stdout
    assert "[in app 'billing']" in done.stdout
    assert "[timeout of the wait for event 'go']" in done.stdout
    assert "open tasks:    -" in done.stdout
    waiting = _inspector("show", str(DEADLINE))
    assert "external event go (times out at 2025-01-01T12:00:31Z)" in waiting.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dialect", "grpc"), "argument --dialect: expected durabletask or dapr, got 'grpc'"),
        (("--dialect", "durabletask"), "not a protobuf OrchestratorRequest"),
    ],
)
def test_show_bad_dialect_one_line_exit_2(args: tuple[str, ...], message: str) -> None:
    done = _inspector("show", str(APPROVAL), *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_long_dapr_history_is_detected_and_a_long_microsoft_one_is_not(tmp_path: Path) -> None:
    """Past :data:`CHECKED_EVENTS` events only the ends are sampled for unknown fields; Dapr's
    sidecar's routers fail Microsoft's parser anyway, wherever they are."""
    from engine.dapr_load import CHECKED_EVENTS

    dapr = dpb.WorkflowRequest.FromString(base64.b64decode(APPROVAL.read_bytes()))
    for n in range(CHECKED_EVENTS):
        event = dapr.pastEvents.add(eventId=-1)
        event.eventRaised.name = f"e{n}"
    path = tmp_path / "long.bin"
    path.write_bytes(dapr.SerializeToString())
    assert load_request(path).dialect == "dapr"
    long_ms = max(SAMPLES, key=lambda p: p.stat().st_size if ".response." not in p.name else 0)
    assert load_request(long_ms).dialect == "durabletask"


def test_dapr_retry_timers_are_retry_timers() -> None:
    dapr = dpb.WorkflowRequest.FromString(base64.b64decode(DEADLINE.read_bytes()))
    retry = dapr.newEvents.add(eventId=9)
    retry.timerCreated.fireAt.seconds = 1_735_733_000
    retry.timerCreated.activityRetry.taskExecutionId = "exec-1"
    session = ReplaySession(load_request(dapr.SerializeToString()))
    last = session.frame(session.total - 1)
    kinds = {(task.kind, task.name.split(" at ")[0]) for task in last.open_tasks}
    assert ("retry timer", "retry of exec-1") in kinds
