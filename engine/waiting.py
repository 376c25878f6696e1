"""What a frame's orchestration waits on, in plain words (the stepper's "waiting on" line).

Read from a :class:`~engine.frames.Frame` alone, so it costs nothing while replaying. With code
the words follow what the code yielded: a task, or a ``when_all`` / ``when_any`` tree whose
tasks are done, still open, or lost (the race above them is decided; they still run, but
nothing waits for them). Once the orchestration has finished, tasks still open are waited on
by no one: they lost a race or were never awaited, and are reported as such, apart from the
waits. Without the code, history records what was scheduled but never a wait for an external
event, nor which tasks a ``when_any`` raced; the words say so instead of claiming more.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.awaited import DONE_STATE, LOST_STATE, Awaited
from engine.frames import TERMINAL, Frame, OpenTask

FINISHED = TERMINAL
"""Statuses after which nothing is waited on."""

HISTORY_BLIND = "history does not record waits for external events"
"""Why history alone cannot tell every wait."""

OPEN_AT_END = {"FAILED": "still open when it failed", "TERMINATED": "still open at the end"}
"""Why a task no race lost is still open at the end, by status (else: never awaited)."""

LOST_WORDS = "lost the race, still running"
"""A task a decided ``when_any`` no longer waits for (the SDK does not cancel it)."""


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
    """A sentence more where the short line needs it (``""`` otherwise): with a tree, how many
    of its tasks lost the race (those in :attr:`lost` are listed apart)."""
    tree: Awaited | None = None
    """With code, while running: what the code yielded, with its structure."""
    lost: tuple[OpenTask, ...] = ()
    """Tasks that lost a decided race and still run, outside :attr:`tree` (with code)."""
    idle: tuple[OpenTask, ...] = ()
    """Tasks open but awaited by nothing now, nor race losers (scheduled, awaited later)."""


def task_words(task: OpenTask) -> str:
    """``activity say_hello (task 4)``, ``timer until 2026-...Z (task 2)``, ``event approval``."""
    name = task.name
    if name.startswith(task.kind + " "):
        name = name[len(task.kind) + 1 :]  # "timer timer until ..." reads "timer until ..."
    if task.kind == "external event":
        return f"event {name!r}"
    ident = f" (task {task.id})" if task.id >= 0 else ""
    return f"{task.kind} {name}{ident}"


def node_words(node: Awaited) -> str:
    """A node in a few words: its task, or ``when_all of 3 (1 done)``."""
    if node.kind == "task":
        return task_words(node.task) if node.task is not None else "a task done before awaited"
    decided = node.kind == "when_any" and node.state == DONE_STATE
    done = "decided" if decided else f"{node.done_count} done"
    return f"{node.kind} of {node.count} ({done})"


def state_words(node: Awaited) -> str:
    """``running``, ``done`` or ``lost the race``."""
    if node.state == LOST_STATE:
        return "lost the race"
    return "done" if node.state == DONE_STATE else "running"


def tree_lines(node: Awaited, depth: int = 0) -> list[tuple[int, Awaited]]:
    """The tree as lines, each with its depth (children below their composite)."""
    out = [(depth, node)]
    for child in node.children:
        out.extend(tree_lines(child, depth + 1))
    if node.count > len(node.children):
        out.append((depth + 1, Awaited("more", None, "", count=node.count - len(node.children))))
    return out


def _open_leaves(node: Awaited) -> list[OpenTask]:
    if node.kind == "task":
        return [node.task] if node.task is not None and node.state == "open" else []
    out: list[OpenTask] = []
    for child in node.children:
        out.extend(_open_leaves(child))
    return out


def _list(tasks: list[OpenTask] | tuple[OpenTask, ...]) -> str:
    if len(tasks) == 1:
        return task_words(tasks[0])
    text = f"{len(tasks)} tasks: " + ", ".join(task_words(t) for t in tasks[:3])
    return text + (", …" if len(tasks) > 3 else "")


def _finished(frame: Frame) -> WaitingOn:
    left = frame.open_tasks
    note = ""
    if left:
        count = f"{len(left)} task{'s' if len(left) != 1 else ''}"
        if frame.with_code:
            lost = sum(1 for t in left if t in frame.lost)
            rest = OPEN_AT_END.get(frame.status, "never awaited")
            parts = [(lost, "lost a when_any race"), (len(left) - lost, rest)]
            why = ", ".join(f"{n} {words}" for n, words in parts if n)
        else:
            why = "lost a when_any race or never awaited"
        note = f"{count} left unfinished: {why}"
    return WaitingOn((), left, f"nothing: {frame.status}", note, lost=frame.lost)


def _from_tree(frame: Frame, tree: Awaited, prefix: str) -> WaitingOn:
    open_tasks = _open_leaves(tree)
    summary = node_words(tree)
    if tree.kind != "task" and open_tasks:
        summary += ": " + ", ".join(task_words(t) for t in open_tasks[:3])
        summary += ", …" if len(open_tasks) > 3 else ""
    in_tree = {n.task for _, n in tree_lines(tree) if n.task is not None}
    idle = tuple(t for t in frame.open_tasks if t not in frame.lost and t not in in_tree)
    lost = sum(1 for _, n in tree_lines(tree) if n.kind == "task" and n.state == LOST_STATE)
    note = f"{lost} {'task' if lost == 1 else 'tasks'} {LOST_WORDS}" if lost else ""
    return WaitingOn(tuple(open_tasks), (), prefix + summary, note, tree, frame.lost, idle)


def waiting_on(frame: Frame) -> WaitingOn:
    """What the orchestration waits on right after ``frame``'s event."""
    if frame.index < 0 or frame.status == "PENDING":
        return WaitingOn((), (), "nothing yet: not started", "")
    if frame.status in FINISHED:
        return _finished(frame)
    prefix = "a resume, then " if frame.suspended else ""
    if frame.awaiting is not None:
        return _from_tree(frame, frame.awaiting, prefix)
    tasks = frame.open_tasks
    if not tasks:
        if frame.with_code:
            return WaitingOn((), (), prefix + "nothing the code asked for", "")
        note = f"it may wait for an external event: {HISTORY_BLIND}"
        return WaitingOn((), (), prefix + "no task in history", note)
    note = "" if frame.with_code else f"and maybe external events: {HISTORY_BLIND}"
    return WaitingOn(tasks, (), prefix + _list(tasks), note)
