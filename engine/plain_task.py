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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durabletask import task
else:
    from engine.sdk import task

_OPEN: dict[str, Any] = {"_is_complete": False, "_exception": None, "_retryable_parent": None}


def _probe() -> type | None:
    """``task.CompletableTask`` if it behaves as the shortcuts assume, else ``None``."""
    cls: Any = getattr(task, "CompletableTask", None)
    if cls is None:
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


PLAIN: type | None = _probe()
"""The SDK's plain task class when the shortcuts hold for it; ``None``: always the SDK's way."""


def new_task(expected: type | None) -> task.CompletableTask[Any]:
    """``task.CompletableTask(expected_type=expected)``: for the plain class, its fields set
    as its constructor sets them."""
    cls: Any = PLAIN
    if cls is None:
        return task.CompletableTask(expected_type=expected)
    made = cls.__new__(cls)
    made._is_complete = False
    made._exception = None
    made._parents = {}
    made._retryable_parent = None
    made._expected_type = expected
    return made  # type: ignore[no-any-return]


if PLAIN is not None and vars(new_task(int)) != vars(task.CompletableTask(expected_type=int)):
    PLAIN = None  # the constructor sets more than the shortcut does


__all__ = ["PLAIN", "new_task"]
