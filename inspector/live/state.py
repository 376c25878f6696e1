"""What the live app knows, kept on its UI thread: the work items and the worker's connection.

Both are fed from messages the worker's threads posted; saving a work item writes the files
``--record`` writes. Nothing here imports Textual.
"""

from __future__ import annotations

import base64
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from engine.savefile import save_set
from engine.worker import Outcome, Recorder, WorkItemEvent
from inspector.widgets.live import StatusLine, WorkItemRow

KEEP_ITEMS = 500
"""Work items kept in the list (the newest)."""


class SourceStats(Protocol):
    """The counters of a source of work items."""

    received: int
    completed: int
    abandoned: int
    undelivered: int


class WorkItemSource(Protocol):
    """Where the live app's work items come from: the embedded worker, or the tap.

    Either reports :class:`~engine.worker.WorkItemEvent`s through callbacks given when it
    is made (the app turns them into messages) and holds the turns the app's gate takes.
    """

    @property
    def stats(self) -> SourceStats:
        """Counters over its life."""
        ...

    def start(self) -> object:
        """Start serving (or forwarding)."""
        ...

    def stop(self) -> object:
        """Stop without losing a work item."""
        ...

    def held_tokens(self) -> list[str]:
        """Completion tokens of the turns held right now."""
        ...

    def release_held(self, token: str) -> bool:
        """Complete a held turn with the answer computed for it; False if not held."""
        ...

    def abandon_held(self, token: str) -> bool:
        """Give a held turn back to the sidecar; False if not held."""
        ...


class WorkItems:
    """The newest work items, by their number in the worker, each at its latest event."""

    def __init__(self, keep: int = KEEP_ITEMS) -> None:
        self.keep = keep
        """How many are kept (the oldest go first)."""
        self.by_number: dict[int, WorkItemRow] = {}
        """The work items kept."""
        self.turns: dict[str, int] = {}
        """How many turns of each instance arrived (the next one's number is one more)."""

    def report(self, event: WorkItemEvent) -> bool:
        """Take the worker's event; whether the list changed."""
        row = self.by_number.get(event.number)
        held = event.outcome is Outcome.HELD
        if row is None:
            turn = 0
            if event.kind == "orchestrator":
                turn = self.turns[event.instance_id] = self.turns.get(event.instance_id, 0) + 1
            self.by_number[event.number] = WorkItemRow(event, event.time, turn, held)
        elif event.outcome is Outcome.RECEIVED:
            return False  # it was reported already, as it ended
        else:
            self.by_number[event.number] = replace(row, event=event, was_held=row.was_held or held)
        if len(self.by_number) > self.keep:
            for number in sorted(self.by_number)[: len(self.by_number) - self.keep]:
                del self.by_number[number]
        return True

    def newest_first(self) -> tuple[WorkItemRow, ...]:
        """Every work item kept, the newest first."""
        return tuple(self.by_number[n] for n in sorted(self.by_number, reverse=True))

    def failed(self) -> int:
        """How many of them failed."""
        return sum(1 for r in self.by_number.values() if r.outcome is Outcome.FAILED)


class WorkerLink:
    """The embedded worker's connection as the status line tells it."""

    def __init__(self, with_worker: bool) -> None:
        self.state = "starting" if with_worker else ""
        """``starting``, ``connecting``, ``connected``, ``reconnecting``, ``stopped`` or
        ``error: …`` (empty: no worker)."""
        self.retry_at: float | None = None
        """While reconnecting: when (``time.monotonic()``) the worker tries again."""
        self.failure = ""
        """While reconnecting: why (a gRPC status name, or the stream ended)."""

    def started(self) -> None:
        """The worker started: it connects next (unless it did already)."""
        if self.state == "starting":
            self.state = "connecting"

    def changed(self, state: str, detail: str, retry_at: float | None) -> None:
        """The worker's ``on_connection`` report (a state of ``CONNECTION_STATES``)."""
        if state == "connected":
            self.retry_at = None
            self.failure = ""
            self.state = "connected"
        elif state in ("failed", "ended"):
            self.failure = "stream ended" if state == "ended" else detail
            self.retry_at = retry_at if retry_at is not None else time.monotonic()
            self.state = "reconnecting"
        elif state == "stopped":
            self.retry_at = None
            self.state = "stopped"

    def status(self, line: StatusLine, worker: WorkItemSource, failed: int) -> StatusLine:
        """``line`` with this worker's state and its counters."""
        stats = worker.stats
        in_flight = stats.received - stats.completed - stats.abandoned - stats.undelivered
        return replace(
            line,
            worker=self.text(),
            served=stats.completed,
            failed=failed,
            in_flight=max(0, in_flight),
            abandoned=stats.abandoned,
            held=len(worker.held_tokens()),
        )

    def text(self) -> str:
        """``connected``, ``reconnecting in 3 s (UNAVAILABLE)``, ``reconnecting…``, ``stopped``."""
        if self.state != "reconnecting":
            return self.state
        why = f" ({self.failure})" if self.failure else ""
        left = 0.0 if self.retry_at is None else self.retry_at - time.monotonic()
        if left > 0.05:
            return f"reconnecting in {math.ceil(left)} s{why}"
        return f"reconnecting…{why}"


def save_work_item(folder: Path, row: WorkItemRow) -> list[str]:
    """Write the work item's request and response as ``--record`` names them; return the paths.

    Nothing is overwritten and no symlink is followed (:func:`engine.savefile.save_set`): a
    name already taken gets a fresh one (``-2``, ``-3`` ...).
    """
    folder.mkdir(parents=True, exist_ok=True)
    ev = row.event
    kind = "turn" if row.is_turn else "activity"
    stem = Recorder.stem(ev.number, kind, ev.instance_id, ev.name)
    files = {".b64": base64.b64encode(ev.request) + b"\n"}
    if ev.response:
        files[".response.b64"] = base64.b64encode(ev.response) + b"\n"
    return [str(path) for path in save_set(folder, stem, files)]
