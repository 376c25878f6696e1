"""Errors of the embedded worker, and the failure types it reports to the sidecar."""

from __future__ import annotations

from engine.errors import WorkerError  # noqa: F401 - the class lives in engine.errors

# --- failure types named in failure details (never raised in the worker itself) -------------


class TurnTimeoutError(Exception):
    """An orchestrator turn kept running past its timeout, too many times."""


class ActivityTimeoutError(Exception):
    """An activity ran past its timeout."""


class ResponseRefused(Exception):
    """The sidecar refused a response for good (too large for its message limit, invalid)."""


class UserProcessCrashed(Exception):
    """The process running the user's code died while serving a work item."""


# Failure details name these types; give them the public module so the name reads well.
for _cls in (TurnTimeoutError, ActivityTimeoutError, ResponseRefused, UserProcessCrashed):
    _cls.__module__ = "engine.worker"
