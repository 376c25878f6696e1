"""App-wide messages: thread workers report with them, screens ask their app with them.

The replay worker reports its progress to the stepper screen that owns it; the live app's
threads (the instance poller, the history reader, the embedded worker's callbacks) report to
the live app, and the live screens tell it what the user chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the stepper of ``open`` does not load the live app's modules
    from datetime import datetime

    from engine.history import OrchestrationRequest
    from engine.live import InstanceRow
    from engine.live_actions import ActionResult
    from engine.timeline import Timeline
    from engine.worker import WorkItemEvent


@dataclass
class ReplayProgressed(Message):
    """More events were replayed and recorded."""

    recorded: int
    total: int
    session: object = None
    """The session replayed (a stepper reused for another session ignores the last one's)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ReplayProgressed) and message.session is self.session


@dataclass
class NamesResolved(Message):
    """Every event's display name is known (completions named after their task)."""

    names: dict[int, str | None]
    session: object = None
    """The session named."""


@dataclass
class ReplayFinished(Message):
    """Every event is recorded."""

    total: int
    session: object = None
    """The session replayed."""


@dataclass
class ReplayCrashed(Message):
    """The replay itself stopped on an engine error (not a failure of the orchestrator)."""

    error: str
    session: object = None
    """The session replayed."""


# --- the live app: its thread workers and the worker's callbacks report with these ------------


@dataclass
class InstancesLoaded(Message):
    """The poller listed the sidecar's instances again."""

    rows: list[InstanceRow]


@dataclass
class ConnectionChanged(Message):
    """The instance poller's connection changed (``connected``, ``reconnecting in 3 s``...)."""

    state: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)


@dataclass
class HistoryRead(Message):
    """An instance's history was read: open it in the history-only stepper."""

    request: OrchestrationRequest
    source: str
    """Where the history came from (``StreamInstanceHistory`` or ``GetInstance``)."""


@dataclass
class HistoryReadFailed(Message):
    """An instance's history could not be read."""

    error: str


@dataclass
class WorkItemReported(Message):
    """The embedded worker reported a work item: arrived, held, completed, failed..."""

    event: WorkItemEvent


@dataclass
class WorkerConnectionChanged(Message):
    """The embedded worker's connection changed (a state of ``CONNECTION_STATES``)."""

    state: str
    detail: str
    retry_at: float | None
    """When (``time.monotonic()``) it tries again, while it reconnects."""


@dataclass
class WorkerLogged(Message):
    """The embedded worker wrote a notice (connections, stops, user-process output)."""

    line: str
    at: datetime


@dataclass
class WorkerStarted(Message):
    """The embedded worker started (it connects next)."""


@dataclass
class WorkerStartFailed(Message):
    """The embedded worker could not start."""

    error: str


@dataclass
class HeldTurnSettled(Message):
    """A held turn was released or abandoned, or was no longer held."""

    text: str


@dataclass
class InstanceActionDone(Message):
    """An action on an instance was answered (or failed): its one line says which."""

    action: str
    result: ActionResult


@dataclass
class TimelineRead(Message):
    """An instance's history was read for its timeline."""

    instance_id: str
    timeline: Timeline
    title: str


@dataclass
class LiveClosed(Message):
    """Everything the live app started is stopped: leave."""


# --- the live screens ask the live app with these ---------------------------------------------


@dataclass
class StatusFilterCycled(Message):
    """The user moved the instance list to the next status filter."""


@dataclass
class NameFilterSet(Message):
    """The user set the instance list's name filter (empty: every name)."""

    name: str


@dataclass
class HoldRuleToggled(Message):
    """The user added or removed a hold rule (empty text: cleared them all)."""

    text: str


@dataclass
class HoldArmToggled(Message):
    """The user armed hold mode for the next matching turn, or disarmed it."""


@dataclass
class HeldTurnReleased(Message):
    """The user chose to complete a held turn with our response."""

    token: str


@dataclass
class HeldTurnAbandoned(Message):
    """The user chose to give a held turn back to the sidecar for redelivery."""

    token: str


@dataclass
class WorkItemSaveRequested(Message):
    """The user asked to save a work item's request and response."""

    number: int


@dataclass
class InstanceActionRequested(Message):
    """The user confirmed an action on an instance (``raise``, ``suspend``... ``schedule``)."""

    action: str
    instance_id: str
    """The instance acted on (empty for ``schedule``)."""
    values: dict[str, str]
    """What the action's form holds (event name, payload, reason...)."""


@dataclass
class TimelineRequested(Message):
    """The user asked for an instance's timeline."""

    instance_id: str


@dataclass
class EntitiesRequested(Message):
    """The user asked for the sidecar's entities and their state."""


@dataclass
class LiveQuitRequested(Message):
    """The user asked to stop everything and leave."""
