"""Headless replay engine for Durable Task orchestrations (never imports Textual or Rich).

The public API: load a request, load the user's app, and replay it headless or step by step.
"""

from engine.app_loader import UserApp, load_app
from engine.errors import (
    AppLoadError,
    InspectorError,
    LoadError,
    OrchestratorNotFound,
    ReplayError,
)
from engine.frames import BufferedEvent, Frame, NonDeterminismView, OpenTask, PendingAction
from engine.history import FailureDetails, HistoryEvent, OrchestrationRequest
from engine.load import load_request
from engine.session import Breakpoint, ReplayOutcome, ReplaySession, replay_request

__all__ = [
    "AppLoadError",
    "Breakpoint",
    "BufferedEvent",
    "FailureDetails",
    "Frame",
    "HistoryEvent",
    "InspectorError",
    "LoadError",
    "NonDeterminismView",
    "OpenTask",
    "OrchestrationRequest",
    "OrchestratorNotFound",
    "PendingAction",
    "ReplayError",
    "ReplayOutcome",
    "ReplaySession",
    "UserApp",
    "load_app",
    "load_request",
    "replay_request",
]
