"""Short, one-line descriptions of the orchestrator's locals, as frames show them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durabletask import task
else:
    from engine.sdk import task


def _describe(value: Any) -> str:
    if isinstance(value, task.Task):
        if not value.is_complete:
            return f"{type(value).__name__}(pending)"
        if value.is_failed:
            return f"{type(value).__name__}(failed: {value.get_exception()})"
        try:
            return f"{type(value).__name__}(done: {value.get_result()!r})"
        except Exception:  # noqa: BLE001 - a cancelled task raises on get_result
            return f"{type(value).__name__}(cancelled)"
    if isinstance(value, (list, tuple)) and any(isinstance(v, task.Task) for v in value[:50]):
        # a list of tasks (a fan-out) by their states, never by their addresses
        inner = ", ".join(_describe(v) for v in value[:8]) + (", ..." if len(value) > 8 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' * (len(value) == 1)})"
    if type(value).__repr__ is object.__repr__ and hasattr(value, "__dict__"):
        # The default repr says nothing; show the object's fields instead of its address.
        fields = ", ".join(f"{k.lstrip('_')}={v!r}" for k, v in vars(value).items())
        return f"{type(value).__name__}({fields})"
    return repr(value)


def short_repr(value: Any, limit: int = 120) -> str:
    """A one-line description of a local for the frame: tasks by state, plain objects by
    their fields, everything else by ``repr``; cut to ``limit`` characters."""
    try:
        text = _describe(value)
    except Exception as exc:  # noqa: BLE001 - a user __repr__ may raise anything
        text = f"<repr failed: {type(exc).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def generator_locals(gen: Any, skip: Any = None) -> tuple[tuple[str, str], ...]:
    """Short reprs of the locals where a generator (the innermost it delegates to) is suspended.

    Args:
        gen: the orchestrator's generator, or ``None``.
        skip: a value left out (the orchestration context itself).
    """
    if gen is None:
        return ()
    while getattr(gen, "gi_yieldfrom", None) is not None:
        if getattr(gen.gi_yieldfrom, "gi_frame", None) is None:
            break
        gen = gen.gi_yieldfrom
    return frame_locals(gen.gi_frame, skip)


def frame_locals(frame: Any, skip: Any = None) -> tuple[tuple[str, str], ...]:
    """Short reprs of a frame's locals (the first 24), ``skip`` left out; ``()`` for ``None``."""
    if frame is None:
        return ()
    out = []
    for name, value in list(frame.f_locals.items())[:24]:
        if value is skip:
            continue
        out.append((name, short_repr(value)))
    return tuple(out)
