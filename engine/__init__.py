"""Headless replay engine for Durable Task orchestrations (never imports Textual or Rich).

The public API: load a request, load the user's app, and replay it headless or step by step.
Every name is imported from its module when first used, so ``import engine.load`` (or the
start of ``inspector replay``) does not pay for the parts of the engine it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.app_loader import UserApp, load_app
    from engine.breakpoints import Breakpoint
    from engine.defaults import DEFAULT_MAXIMUM_TIMER_INTERVAL
    from engine.errors import (
        AppLoadError,
        InspectorError,
        LoadError,
        OrchestratorNotFound,
        ReplayError,
        WorkerError,
    )
    from engine.frames import (
        BufferedEvent,
        Frame,
        NonDeterminismView,
        OpenTask,
        PendingAction,
        StepRecord,
    )
    from engine.history import (
        FailureDetails,
        HistoryEvent,
        OrchestrationRequest,
        execution_started,
    )
    from engine.load import load_request
    from engine.outcome import NonDeterminism, ReplayOutcome
    from engine.session import ReplaySession, replay_request

_HOMES = {
    "engine.app_loader": ("UserApp", "load_app"),
    "engine.breakpoints": ("Breakpoint",),
    "engine.defaults": ("DEFAULT_MAXIMUM_TIMER_INTERVAL",),
    "engine.errors": (
        "AppLoadError",
        "InspectorError",
        "LoadError",
        "OrchestratorNotFound",
        "ReplayError",
        "WorkerError",
    ),
    "engine.frames": (
        "BufferedEvent",
        "Frame",
        "NonDeterminismView",
        "OpenTask",
        "PendingAction",
        "StepRecord",
    ),
    "engine.history": (
        "FailureDetails",
        "HistoryEvent",
        "OrchestrationRequest",
        "execution_started",
    ),
    "engine.load": ("load_request",),
    "engine.outcome": ("NonDeterminism", "ReplayOutcome"),
    "engine.session": ("ReplaySession", "replay_request"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "DEFAULT_MAXIMUM_TIMER_INTERVAL",
    "AppLoadError",
    "Breakpoint",
    "BufferedEvent",
    "FailureDetails",
    "Frame",
    "HistoryEvent",
    "InspectorError",
    "LoadError",
    "NonDeterminism",
    "NonDeterminismView",
    "OpenTask",
    "OrchestrationRequest",
    "OrchestratorNotFound",
    "PendingAction",
    "ReplayError",
    "ReplayOutcome",
    "ReplaySession",
    "StepRecord",
    "UserApp",
    "WorkerError",
    "execution_started",
    "load_app",
    "load_request",
    "replay_request",
]


def __getattr__(name: str) -> Any:
    """Import a public name from the module that defines it, on first use."""
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
