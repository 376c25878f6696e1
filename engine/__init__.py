"""Headless replay engine for Durable Task orchestrations (never imports Textual or Rich).

The public API: load a request, load the user's app, and replay it headless or step by step.
"""

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
from engine.history import FailureDetails, HistoryEvent, OrchestrationRequest, execution_started
from engine.load import load_request
from engine.outcome import NonDeterminism, ReplayOutcome
from engine.session import ReplaySession, replay_request

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
