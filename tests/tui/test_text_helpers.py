"""The narrow-column helpers and the traceback order (plain functions, no app)."""

from __future__ import annotations

from inspector.text import middle_text, relative_paths, short_kind
from inspector.widgets.highlight import user_code_first


def test_short_kinds_stay_distinguishable() -> None:
    kinds = [
        "subOrchestrationInstanceCreated",
        "subOrchestrationInstanceCompleted",
        "subOrchestrationInstanceFailed",
        "orchestratorStarted",
        "orchestratorCompleted",
    ]
    for width in (10, 14, 16):
        short = [short_kind(k, width) for k in kinds]
        assert len(set(short)) == len(kinds), short
        assert all(len(s) <= width for s in short)
    assert short_kind("taskCompleted", 22) == "taskCompleted"
    assert short_kind("subOrchestrationInstanceCompleted", 22) == "subOrchCompleted"


def test_middle_text_keeps_both_ends() -> None:
    assert middle_text("say_hello_to_everyone_in_the_world", 14) == "say_hel…_world"
    assert middle_text("short", 14) == "short"
    assert middle_text(None, 5) == ""
    assert middle_text("a\nb", 5) == "a b"


SDK_FIRST = """Traceback (most recent call last):
  File "/venv/lib/site-packages/durabletask/worker.py", line 10, in run
    gen.send(x)
  File "app/orch.py", line 5, in my_orch
    raise ValueError(1)
ValueError: 1"""


def test_user_frames_come_first_in_a_sidecar_trace() -> None:
    lines = user_code_first(SDK_FIRST).splitlines()
    assert lines[1] == '  File "app/orch.py", line 5, in my_orch'
    assert lines[2] == "    raise ValueError(1)"
    assert lines[3] == "  (1 frame(s) of the SDK and libraries, below)"
    assert "durabletask/worker.py" in lines[4]
    assert lines[-1] == "ValueError: 1"


def test_a_trace_already_user_first_is_unchanged() -> None:
    ours = 'Traceback (most recent call last):\n  File "app/orch.py", line 5, in f\n    x\nE: 1'
    assert user_code_first(ours) == ours


def test_a_timer_payload_is_shortened_to_its_fire_time() -> None:
    from datetime import datetime, timezone

    from engine.history import TimerCreated
    from inspector.widgets.history import _payload

    ev = TimerCreated(3, None, datetime(2026, 12, 1, 18, 30, 5, 250000, tzinfo=timezone.utc))
    assert _payload(ev, 40) == ev.payload  # fits: the ISO time as recorded
    assert _payload(ev, 26) == "fires 2026-12-01 18:30:05"
    assert _payload(ev, 18) == "fires 18:30:05.250"


def test_trace_paths_under_the_folder_read_relative() -> None:
    trace = (
        'Traceback (most recent call last):\n  File "/home/u/app/samples/o.py", line 3, in f\n'
        '  File "/usr/lib/python3/x.py", line 9, in g\n'
    )
    shown = relative_paths(trace, "/home/u/app")
    assert 'File "samples/o.py", line 3' in shown
    assert 'File "/usr/lib/python3/x.py"' in shown
    assert relative_paths(trace, "/") == trace
