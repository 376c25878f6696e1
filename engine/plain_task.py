"""Shortcuts over the SDK's plain task class, each one checked against the SDK at import.

A replay creates, completes and reads one ``CompletableTask`` per activity, and through the
SDK's constructor, ``complete()`` and properties each of these is several Python calls: most
of what an activity costs. For the plain class itself (never a subclass), and only when the
flavour's class keeps its state in exactly the fields checked below (its behaviour is probed
once, here), the replay creates, completes and reads a task through those fields. Anything
else (a subclass, a task with parents to notify, an SDK whose task is built differently)
goes through the SDK's own methods, so the answers are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durabletask import task
else:
    from engine.sdk import task

_OPEN: dict[str, Any] = {"_is_complete": False, "_exception": None, "_retryable_parent": None}


def _probe() -> type | None:
    """``task.CompletableTask`` if it behaves as the shortcuts assume, else ``None``."""
    cls: Any = getattr(task, "CompletableTask", None)
    if cls is None or cls.__new__ is not object.__new__:
        return None
    try:
        made = cls(expected_type=int)
        if vars(made) != {**_OPEN, "_parents": {}, "_expected_type": int}:
            return None
        if made.is_complete or made.is_failed:
            return None
        made.complete(5)
        done: dict[str, Any] = {
            **_OPEN,
            "_is_complete": True,
            "_parents": {},
            "_expected_type": int,
        }
        if vars(made) != {**done, "_result": 5}:
            return None
        if not made.is_complete or made.is_failed or made.get_result() != 5:
            return None
    except Exception:  # noqa: BLE001 - any surprise: no shortcut
        return None
    return cls  # type: ignore[no-any-return]


PLAIN: Any = _probe()
"""The SDK's plain task class when the shortcuts hold for it; ``None``: always the SDK's way."""


_new = object.__new__


def new_task(expected: type | None) -> task.CompletableTask[Any]:
    """``task.CompletableTask(expected_type=expected)``: for the plain class, its fields set
    as its constructor sets them."""
    cls: Any = PLAIN
    if cls is None:
        return task.CompletableTask(expected_type=expected)
    made = _new(cls)
    made._is_complete = False
    made._exception = None
    made._parents = {}
    made._retryable_parent = None
    made._expected_type = expected
    return made  # type: ignore[no-any-return]


if PLAIN is not None and vars(new_task(int)) != vars(task.CompletableTask(expected_type=int)):
    PLAIN = None  # the constructor sets more than the shortcut does


def count_child(child: Any, value: Any) -> Any:
    """Complete the plain ``child`` of one plain ``when_all`` that still waits for others
    after it, as ``child.complete(value)`` would; return that parent, or ``None`` (nothing
    done) when the case is any other (the caller then completes it the SDK's way).

    The caller has checked ``type(child) is PLAIN`` and that ``child`` is not complete.
    """
    parents = child._parents
    parent: Any
    try:
        [parent] = parents.values()
    except ValueError:  # no parent, or more than one
        return None
    if type(parent) is not WHEN_ALL or parent._is_complete:
        return None
    key = id(child)
    waiting = parent._pending_children
    try:
        entry = waiting[key]
    except KeyError:
        return None
    done = parent._completed_tasks + entry[1]
    if done >= len(parent._tasks):
        return None  # the last one: the SDK completes the parent
    child._result = value
    child._is_complete = True
    parents.clear()
    del waiting[key]
    parent._completed_tasks = done
    return parent


def count_children(
    parent: Any,
    events: Iterator[tuple[int, Any]],
    kind_of: Any,
    tasks: dict[int, Any],
    decode: Any,
    decoded: dict[str, Any],
) -> tuple[int, tuple[int, Any] | None]:
    """Count the next ``taskCompleted`` events of ``events`` (``(index, message)`` pairs;
    ``kind_of(message, "eventType")``: its kind) that complete plain children of the plain
    ``when_all`` ``parent`` (not complete) other than its last, each as :func:`count_child`
    after the task is taken from ``tasks`` (the turn's pending tasks: a bare task under its id)
    and its result decoded with ``decode`` (``decode(text)``; ``decoded``: results it is known
    to give, by text, read first).

    Returns:
        How many were counted, and the first pair not taken (``None``: the events ran out): an
        event of another kind or another case, the parent's last child, or a result that
        ``decode`` refuses (the caller applies it its own way, changing nothing before).
    """
    counted = 0
    waiting = parent._pending_children
    left = len(parent._tasks) - parent._completed_tasks  # more than one (the caller's check)
    key = id(parent)
    known = decoded.get
    for index, msg in events:
        if kind_of(msg, "eventType") != "taskCompleted":
            return counted, (index, msg)
        ev = msg.taskCompleted
        task_id = ev.taskScheduledId
        child: Any = tasks.get(task_id)
        if type(child) is not PLAIN or child._is_complete:
            return counted, (index, msg)
        parents = child._parents
        child_key = id(child)
        entry = waiting.get(child_key)
        if entry is None or len(parents) != 1 or parents.get(key) is not parent:
            return counted, (index, msg)
        occurrences = entry[1]
        if occurrences >= left:
            return counted, (index, msg)  # the last one: the SDK completes the parent
        result = ev.result.value  # "" when absent: no result either way
        if not result:
            value = None
        else:
            value = known(result, known)
            if value is known:
                try:
                    value = decode(result)
                except Exception:  # noqa: BLE001 - the caller meets it again, its own way
                    return counted, (index, msg)
        del tasks[task_id]
        child._result = value
        child._is_complete = True
        parents.clear()
        del waiting[child_key]
        left -= occurrences
        parent._completed_tasks += occurrences
        counted += 1
    return counted, None


def _state(*made: Any) -> list[dict[str, Any]]:
    """The fields of ``made``, with tasks named by their place in ``made``."""
    place = {id(m): i for i, m in enumerate(made)}

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {place.get(k, k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return ("task", place[id(value)]) if id(value) in place else value

    return [plain(vars(m)) for m in made]


def _probe_when_all() -> type | None:
    """``task.WhenAllTask`` if :func:`count_child` leaves it and its children exactly as the
    SDK's ``complete()`` does (and the SDK then completes it as before), else ``None``."""
    cls: Any = getattr(task, "WhenAllTask", None)
    if cls is None or PLAIN is None:
        return None
    try:
        for order in ((0, 1, 2), (2, 0, 1)):
            ours, sdk = ([new_task(None) for _ in range(3)] for _ in range(2))
            ours_all, sdk_all = cls([*ours, ours[order[0]]]), cls([*sdk, sdk[order[0]]])
            for step, i in enumerate(order):
                if step < 2:
                    if _count_for_probe(cls, ours[i], i) is not ours_all:
                        return None
                else:
                    ours[i].complete(i)
                sdk[i].complete(i)
                if _state(*ours, ours_all) != _state(*sdk, sdk_all):
                    return None
            if not ours_all.is_complete or ours_all.get_result() != [0, 1, 2, order[0]]:
                return None
    except Exception:  # noqa: BLE001 - any surprise: no shortcut
        return None
    return cls  # type: ignore[no-any-return]


def _count_for_probe(cls: Any, child: Any, value: Any) -> Any:
    global WHEN_ALL
    WHEN_ALL = cls
    try:
        return count_child(child, value)
    finally:
        WHEN_ALL = None


WHEN_ALL: Any = None
WHEN_ALL = _probe_when_all()
"""The SDK's ``WhenAllTask`` when :func:`count_child` holds for it; ``None``: the SDK's way."""


__all__ = ["PLAIN", "WHEN_ALL", "count_child", "count_children", "new_task"]
