"""A whole turn replayed headless: no frames recorded, only the response built.

This is what ``inspector replay`` and the worker need, and all they import: it loads neither
the frame recorder nor the stepping session (:mod:`engine.session` re-exports
:func:`replay_request` for the callers that know it from there).
"""

from __future__ import annotations

from datetime import timedelta
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from engine.actions import response_to_proto
from engine.collector import collector_held
from engine.defaults import DEFAULT_MAXIMUM_TIMER_INTERVAL
from engine.errors import ReplayError, WorkItemRejected
from engine.outcome import ReplayOutcome
from engine.replay import CodeReplayer

if TYPE_CHECKING:
    from engine import history as h
    from engine.app_loader import UserApp


def replay_request(
    request: h.OrchestrationRequest,
    app: UserApp,
    *,
    completion_token: str = "",
    maximum_timer_interval: timedelta | None = DEFAULT_MAXIMUM_TIMER_INTERVAL,
) -> ReplayOutcome:
    """Replay a whole turn headless (no frames recorded) and build its response.

    Args:
        request: The loaded request.
        app: The user's app, holding the orchestrator the request names.
        completion_token: Copied into the response.
        maximum_timer_interval: The worker's longest single timer (``None``: no limit).

    Returns:
        The response and what the replay found (failure, non-determinism). A rewind turn is
        not replayed: its response rewrites the history (:mod:`engine.rewind`).

    Raises:
        ReplayError: a rewind turn that cannot be rewound.
        WorkItemRejected: the app's versioning options reject the work item (no response).
    """
    new = request.proto.newEvents
    # A rewind turn has two new events; with more, it can only be refused, and the scan for
    # one waits for the replay, which notes every executionRewound it meets.
    if len(new) <= _FEW and _holds(new, "executionRewound"):
        rewound = _rewind_outcome(request, completion_token)
        if rewound is not None:
            return rewound
    code = CodeReplayer(request, app, maximum_timer_interval=maximum_timer_interval)
    with collector_held():
        code.apply_all()
        actions = code.result_actions()
    if len(new) > _FEW and (code.rewound or (code.stopped and _holds(new, "executionRewound"))):
        rewound = _rewind_outcome(request, completion_token)
        if rewound is not None:
            return rewound
    if code.rejected is not None and code.rejected.mode == "reject":
        raise WorkItemRejected(
            f"the app's worker rejects this work item: {code.rejected} "
            "(its VersioningOptions failure strategy is REJECT; the work item is abandoned)"
        )
    response = response_to_proto(
        request.instance_id, actions, code.ctx.custom_status, completion_token
    )
    return ReplayOutcome(
        response=response,
        actions=tuple(actions),
        failure=code.failure,
        nondeterminism=code.nondeterminism,
        dapr=code.ctx.turn_facts() if code.dapr else None,  # type: ignore[attr-defined]
        when_all_needs=code.ctx.when_all_needs(),
    )


_KIND = methodcaller("WhichOneof", "eventType")
_FEW = 8


def _rewind_outcome(request: h.OrchestrationRequest, completion_token: str) -> ReplayOutcome | None:
    """A rewind turn's outcome (its response rewrites the history), ``None`` for another turn.

    Raises:
        ReplayError: a rewind turn that cannot be rewound.
    """
    from engine import rewind  # only a turn that may be a rewind loads its rules

    if not rewind.is_rewind(request.proto):
        return None
    try:
        response = rewind.rewind_response(request.proto, completion_token)
    except ValueError as exc:
        raise ReplayError(f"cannot rewind: {exc}") from None
    return ReplayOutcome(response=response, actions=(), failure=None, nondeterminism=None)


def _holds(events: Any, kind: str) -> bool:
    """Whether any of the protobuf ``events`` is of ``kind`` (a scan in C)."""
    return kind in map(_KIND, events)


__all__ = ["replay_request"]
