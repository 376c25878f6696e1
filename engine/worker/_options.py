"""Worker settings: how to serve work items (how to reach the sidecar is :mod:`engine.channel`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from engine.channel import ConnectionOptions as ConnectionOptions
from engine.worker._batch import HOLD_SECONDS

APP_TIMER_INTERVAL = "app"
"""``maximum_timer_interval`` meaning "the app's own": the option of the worker a configured
app builds (``MODULE:ATTR``), else the SDK's default."""


def _default_orchestrations() -> int:
    return max(2, os.cpu_count() or 2)


def _default_activities() -> int:
    return max(4, 2 * (os.cpu_count() or 2))


@dataclass(frozen=True)
class WorkerOptions:
    """How the worker serves work items.

    Attributes:
        app: The user's APP: a Python file path or an importable module name.
        turn_timeout: Seconds an orchestrator turn may run before it is stopped and abandoned.
        activity_timeout: Seconds an activity may run before it is stopped and abandoned.
        max_timeouts: Timed-out turns of one instance (in a row) before it is failed instead.
        grace: Seconds to finish in-flight work after a stop is requested.
        max_orchestrations: Orchestrator turns served at once (user processes for turns).
        max_activities: Activities run at once (user processes for activities).
        record_dir: Folder to save every work item's request and response in, or None.
        maximum_timer_interval: Longest single durable timer; longer ones are chunked
            (:data:`APP_TIMER_INTERVAL`: the app's own; None: never chunked).
        orchestrator_filter: Only ask for these orchestrators (None: everything).
        activity_filter: Only ask for these activities (None: everything).
        start_method: ``multiprocessing`` start method for user processes (never ``fork``).
        result_hold: Seconds an activity's result waits at most for the siblings a
            ``when_all`` the orchestration waits on still needs, to go out in one turn.
    """

    app: str
    turn_timeout: float = 30.0
    activity_timeout: float = 300.0
    max_timeouts: int = 3
    grace: float = 10.0
    max_orchestrations: int = field(default_factory=_default_orchestrations)
    max_activities: int = field(default_factory=_default_activities)
    record_dir: str | None = None
    maximum_timer_interval: timedelta | None | str = APP_TIMER_INTERVAL
    orchestrator_filter: tuple[str, ...] | None = None
    activity_filter: tuple[str, ...] | None = None
    start_method: str = "spawn"
    result_hold: float = HOLD_SECONDS
