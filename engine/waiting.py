"""What a frame's orchestration waits on, in plain words (the stepper's "waiting on" line).

Read from a :class:`~engine.frames.Frame` alone, so it costs nothing while replaying. Once the
orchestration has finished, tasks still open are not waited on by anyone: they lost a
``when_any`` race or were never awaited, and are reported as such, apart from the waits.
Without the code, history records what was scheduled but never a wait for an external event;
the words say so instead of claiming there is nothing to wait for.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.frames import Frame, OpenTask

FINISHED = frozenset({"COMPLETED", "FAILED", "TERMINATED", "CONTINUED_AS_NEW"})
"""Statuses after which nothing is waited on."""

HISTORY_BLIND = "history does not record waits for external events"
"""Why history alone cannot tell every wait."""


@dataclass(frozen=True, slots=True)
class WaitingOn:
    """What the orchestration waits on after one step."""

    tasks: tuple[OpenTask, ...]
    """The tasks (and, with code, external events) it waits on."""
    abandoned: tuple[OpenTask, ...]
    """Tasks still open when it finished: they lost a race or were never awaited."""
    summary: str
    """One short line (the state pane's "waiting on" row)."""
    note: str
    """A sentence more where the short line needs it (``""`` otherwise)."""


def task_words(task: OpenTask) -> str:
    """``activity say_hello (task 4)``, ``timer until 2026-...Z (task 2)``, ``event approval``."""
    name = task.name
    if name.startswith(task.kind + " "):
        name = name[len(task.kind) + 1 :]  # "timer timer until ..." reads "timer until ..."
    if task.kind == "external event":
        return f"event {name!r}"
    ident = f" (task {task.id})" if task.id >= 0 else ""
    return f"{task.kind} {name}{ident}"


def waiting_on(frame: Frame) -> WaitingOn:
    """What the orchestration waits on right after ``frame``'s event."""
    if frame.index < 0 or frame.status == "PENDING":
        return WaitingOn((), (), "nothing yet: not started", "")
    if frame.status in FINISHED:
        left = frame.open_tasks
        note = ""
        if left:
            count = f"{len(left)} task{'s' if len(left) != 1 else ''}"
            note = f"{count} left unfinished: lost a when_any race or never awaited"
        return WaitingOn((), left, f"nothing: {frame.status}", note)
    tasks = frame.open_tasks
    prefix = "a resume, then " if frame.suspended else ""
    if not tasks:
        if frame.with_code:
            return WaitingOn((), (), prefix + "nothing the code asked for", "")
        note = f"it may wait for an external event: {HISTORY_BLIND}"
        return WaitingOn((), (), prefix + "no task in history", note)
    if len(tasks) == 1:
        summary = task_words(tasks[0])
    else:
        summary = f"{len(tasks)} tasks: " + ", ".join(task_words(t) for t in tasks[:3])
        if len(tasks) > 3:
            summary += ", …"
    note = "" if frame.with_code else f"and maybe external events: {HISTORY_BLIND}"
    return WaitingOn(tasks, (), prefix + summary, note)
