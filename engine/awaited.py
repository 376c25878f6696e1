"""What the code awaits: the task it yielded, with ``when_all`` / ``when_any`` structure.

The recorder keeps the shape of every yielded task once (a raw tree of the SDK task objects'
identities), and rebuilds, for any step, which of its tasks are done, still open, or lost (the
other tasks of a ``when_any`` once the race is decided) from the open-state intervals alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine import sdk

if TYPE_CHECKING:
    from engine.frames import OpenTask

RawNode = tuple[Any, ...]
"""``("task", handle)`` or ``("when_all" | "when_any", (child, ...))``; ``handle`` is the
``id()`` of the SDK task object the code holds."""

MAX_CHILDREN = 50
"""A composite shows this many children as nodes; the rest are only counted."""

OPEN_STATE = "open"
DONE_STATE = "done"
LOST_STATE = "lost"


@dataclass(frozen=True, slots=True)
class Awaited:
    """One node of what the code awaits: a task, or a ``when_all`` / ``when_any`` of nodes."""

    kind: str
    """``task``, ``when_all`` or ``when_any``."""
    task: OpenTask | None
    """For a task, what it is (``None`` when it was done before the code awaited it)."""
    state: str
    """``open``, ``done`` or ``lost``: still running, but a ``when_any`` above it is decided."""
    children: tuple[Awaited, ...] = ()
    """For a composite, its first :data:`MAX_CHILDREN` children."""
    count: int = 0
    """For a composite, how many children it has."""
    done_count: int = 0
    """For a composite, how many of its children are done."""


def raw_tree(awaited: Any) -> RawNode:
    """The shape of a yielded SDK task: composites with their children, tasks by identity."""
    task = sdk.task_module()
    if isinstance(awaited, task.CompositeTask):
        kind = "when_any" if isinstance(awaited, task.WhenAnyTask) else "when_all"
        return (kind, tuple(raw_tree(child) for child in awaited.get_tasks()))
    return ("task", id(awaited))


def leaves(raw: RawNode) -> Iterator[int]:
    """The handles of every task in the tree."""
    if raw[0] == "task":
        yield raw[1]
        return
    for child in raw[1]:
        yield from leaves(child)


def race_entrants(raw: RawNode, racing: bool = False) -> Iterator[int]:
    """The handles of the tasks under a ``when_any`` (those that may lose a race)."""
    if raw[0] == "task":
        if racing:
            yield raw[1]
        return
    for child in raw[1]:
        yield from race_entrants(child, racing or raw[0] == "when_any")


def _done(raw: RawNode, is_open: Callable[[int], bool]) -> bool:
    if raw[0] == "task":
        return not is_open(raw[1])
    flags = [_done(child, is_open) for child in raw[1]]
    return any(flags) if raw[0] == "when_any" else all(flags)


def resolve(
    raw: RawNode,
    is_open: Callable[[int], bool],
    describe: Callable[[int], OpenTask | None],
    lost: bool = False,
) -> Awaited:
    """The tree at one step: ``is_open(handle)`` says whether a task is open then."""
    if raw[0] == "task":
        if is_open(raw[1]):
            state = LOST_STATE if lost else OPEN_STATE
        else:
            state = DONE_STATE
        return Awaited("task", describe(raw[1]), state)
    kind, children_raw = raw
    done_count = 0
    for child in children_raw:  # a fan-out's thousands of tasks: kept to a plain loop
        if child[0] == "task":
            done_count += not is_open(child[1])
        elif _done(child, is_open):
            done_count += 1
    done = done_count > 0 if kind == "when_any" else done_count == len(children_raw)
    below_lost = lost or (kind == "when_any" and done)
    children = tuple(
        resolve(child, is_open, describe, below_lost) for child in children_raw[:MAX_CHILDREN]
    )
    state = DONE_STATE if done else (LOST_STATE if lost else OPEN_STATE)
    return Awaited(kind, None, state, children, len(children_raw), done_count)
