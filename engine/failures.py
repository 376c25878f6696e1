"""Failure details made from exceptions: type, message, the user's traceback, the cause chain.

This is how a failing orchestrator (or an activity, in the worker) is described to the sidecar,
with the engine's and the SDK's own frames left out of the stack trace.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durabletask import task
else:
    from engine.sdk import task

from engine import sdk
from engine.actions import SourceLocation
from engine.history import FailureDetails


def qualified_name(t: type) -> str:
    """``module.qualname`` of a type, as failure details name error types."""
    module = getattr(t, "__module__", None)
    qual = getattr(t, "__qualname__", None) or getattr(t, "__name__", None) or str(t)
    return f"{module}.{qual}" if module else qual


def exception_properties(provider: Any, ex: BaseException) -> dict[str, Any]:
    """The custom properties an ``ExceptionPropertiesProvider`` gives for an exception.

    As in the SDK, a provider that raises or returns something other than a mapping adds none.
    """
    if provider is None or not isinstance(ex, Exception):
        return {}
    try:
        found = provider.get_exception_properties(ex)
        if found is None or not isinstance(found, Mapping):
            return {}
        return {str(key): value for key, value in found.items()}
    except Exception:  # noqa: BLE001 - the provider is user code; the SDK ignores its errors
        return {}


def failure_from_exception(
    ex: BaseException, _seen: set[int] | None = None, *, provider: Any = None
) -> FailureDetails:
    """Failure details for an exception: type, message, user-code traceback, cause chain.

    ``provider`` is the app's ``ExceptionPropertiesProvider`` (None: no custom properties).
    """
    if sdk.is_dapr():  # Dapr's fork: the bare type name, no inner failure, no properties
        stack = "".join(traceback.format_list(_user_frames(ex.__traceback__)))
        return FailureDetails(error_type=type(ex).__name__, message=str(ex), stack_trace=stack)
    seen = set() if _seen is None else _seen
    seen.add(id(ex))
    inner_ex = ex.__cause__ or ex.__context__
    if len(seen) > 10 or (inner_ex is not None and id(inner_ex) in seen):
        inner_ex = None
    if not isinstance(inner_ex, Exception):
        inner_ex = None
    return FailureDetails(
        error_type=qualified_name(type(ex)),
        message=str(ex),
        stack_trace="".join(traceback.format_list(_user_frames(ex.__traceback__))),
        inner=(
            failure_from_exception(inner_ex, seen, provider=provider)
            if inner_ex is not None
            else None
        ),
        properties=exception_properties(provider, ex),
    )


_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
_SDK_DIR = os.path.dirname(os.path.abspath(task.__file__))


def _is_machinery(filename: str) -> bool:
    return filename.startswith((_ENGINE_DIR, _SDK_DIR))


def raising_user_frame(ex: BaseException) -> Any:
    """The innermost frame of user code an exception went through (``None``: none was)."""
    found = None
    tb = ex.__traceback__
    while tb is not None:
        if not _is_machinery(tb.tb_frame.f_code.co_filename):
            found = tb.tb_frame
        tb = tb.tb_next
    return found


def _user_frames(tb: Any) -> traceback.StackSummary:
    """The traceback's frames without the engine's and the SDK's own (all of them if none is
    the user's)."""
    frames = traceback.extract_tb(tb)
    user = [f for f in frames if not _is_machinery(f.filename)]
    return traceback.StackSummary.from_list(user or frames)


def failure_location(ex: BaseException) -> SourceLocation | None:
    """The innermost line of user code an exception went through, if any."""
    user = [f for f in traceback.extract_tb(ex.__traceback__) if not _is_machinery(f.filename)]
    if not user:
        return None
    last = user[-1]
    return SourceLocation(last.filename, last.lineno or 0, last.name)


def sdk_failure_details(details: FailureDetails | None) -> Any:
    """The SDK's ``TaskFailureDetails`` for our failure details (for ``TaskFailedError``)."""
    return sdk.failure_details_message(
        details.to_proto().SerializeToString() if details is not None else b""
    )


def failure_from_task_error(ex: task.TaskFailedError, *, provider: Any = None) -> FailureDetails:
    """Failure details for a failed task awaited by user code (the task's own as inner)."""

    def convert(d: Any) -> FailureDetails:
        return FailureDetails(
            error_type=d.error_type,
            message=d.message,
            stack_trace=d.stack_trace,
            inner=convert(d.inner_failure) if d.inner_failure is not None else None,
            properties=dict(d.properties or {}),
        )

    outer = failure_from_exception(ex, provider=provider)
    # The SDK completes with the task's own message (its FailureDetails view drops
    # isNonRetriable), so read that message when the error carries one.
    raw = getattr(ex, "_failure_details", None)
    return FailureDetails(
        error_type=outer.error_type,
        message=outer.message,
        stack_trace=outer.stack_trace,
        inner=FailureDetails.from_proto(raw) if raw is not None else convert(ex.details),
        properties=outer.properties,
    )


def orchestration_failure(ex: BaseException, provider: Any = None) -> FailureDetails:
    """The failure an orchestration completes with when ``ex`` escapes its code.

    An exception that carries ready ``failure_details`` (the worker's version check) gives
    them as they are; a failed task awaited by the code keeps the task's failure as inner.
    """
    if sdk.is_dapr():
        return failure_from_exception(ex)
    ready = getattr(ex, "failure_details", None)
    if isinstance(ready, FailureDetails):
        return ready
    if isinstance(ex, task.TaskFailedError):
        return failure_from_task_error(ex, provider=provider)
    return failure_from_exception(ex, provider=provider)
