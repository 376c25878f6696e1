"""Tiny fixture apps for the live snapshots: the live list and the timeline with fixed data.

The live list is drawn from rows made here (a real sidecar's times, ports and ids change from
run to run); the timeline is a recorded sample request's.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from textual.app import App

from engine.live import InstanceRow
from engine.load import load_request_proto
from engine.timeline import request_timeline
from engine.worker import Outcome, WorkItemEvent
from inspector.live.app import APP_CSS
from inspector.screens.live import LiveScreen
from inspector.screens.timeline import TimelineScreen
from inspector.widgets.live import HoldState, StatusLine, WorkItemRow

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 31, 12, 0, 0, tzinfo=timezone.utc)

INSTANCES = (
    ("demo1-parent_orchestration", "parent_orchestration", "RUNNING", ""),
    ("demo1-parent_catches_child_failure", "parent_catches_child_failure", "COMPLETED", ""),
    ("demo1-continue_as_new_counter", "continue_as_new_counter", "CONTINUED_AS_NEW", ""),
    ("demo1-retry_exhausted", "retry_exhausted", "FAILED", ""),
    ("demo1-custom_status_progress", "custom_status_progress", "COMPLETED", "step 3 of 3"),
    ("demo1-terminable", "terminable", "TERMINATED", "waiting to be terminated"),
    ("demo1-suspendable", "suspendable", "SUSPENDED", ""),
)

ITEMS = (
    (
        "orchestrator",
        "demo1-parent_orchestration",
        "parent_orchestration",
        "2 actions",
        Outcome.COMPLETED,
    ),
    ("activity", "demo1-parent_orchestration", "say_hello", "ok", Outcome.COMPLETED),
    (
        "orchestrator",
        "demo1-parent_orchestration",
        "parent_orchestration",
        "COMPLETED",
        Outcome.COMPLETED,
    ),
    ("orchestrator", "demo1-retry_exhausted", "retry_exhausted", "1 action", Outcome.COMPLETED),
    ("activity", "demo1-retry_exhausted", "always_fails", "FAILED ValueError", Outcome.FAILED),
    ("orchestrator", "demo1-retry_exhausted", "retry_exhausted", "1 action", Outcome.HELD),
)


def instance_rows() -> tuple[InstanceRow, ...]:
    """The fixed instances, newest first."""
    rows = []
    for i, (iid, name, status, custom) in enumerate(INSTANCES):
        at = T0 + timedelta(seconds=i)
        rows.append(InstanceRow(iid, name, "", status, at, at + timedelta(seconds=2), custom))
    return tuple(reversed(rows))


def work_item_rows() -> tuple[WorkItemRow, ...]:
    """The fixed work items, newest first (one of them held, one released after a hold)."""
    rows = []
    turns: dict[str, int] = {}
    for n, (kind, iid, name, result, outcome) in enumerate(ITEMS, start=1):
        at = T0 + timedelta(milliseconds=250 * n)
        event = WorkItemEvent(at, kind, iid, name, result, 0.0042, n, outcome)
        turn = 0
        if kind == "orchestrator":
            turn = turns[iid] = turns.get(iid, 0) + 1
        rows.append(WorkItemRow(event, at, turn, was_held=n == 3))
    return tuple(reversed(rows))


class LiveListApp(App[None]):
    """The live list (with the embedded worker's work items) on fixed rows."""

    CSS_PATH = str(APP_CSS)

    def on_mount(self) -> None:
        screen = LiveScreen(with_worker=True)
        self.push_screen(screen)
        screen.status = StatusLine(
            "127.0.0.1:4001", "connected", "connected", served=5, failed=1, held=1
        )
        screen.hold = HoldState(True, False, ("name=retry_exhausted",))
        screen.instances = instance_rows()
        screen.work_items = work_item_rows()


class TimelineApp(App[None]):
    """The timeline of a recorded sample request, opened at one of its events."""

    CSS_PATH = str(APP_CSS)

    def __init__(self, request: str, current: int | None) -> None:
        super().__init__()
        self.request = request
        self.current = current

    def on_mount(self) -> None:
        msg = load_request_proto(ROOT / "samples" / "requests" / f"{self.request}.b64")
        title = f"{msg.instanceId} · {self.request}"
        self.push_screen(TimelineScreen(request_timeline(msg), title, current=self.current))
