"""Every error the engine raises, rooted at :class:`InspectorError`.

Each error carries a one-line message meant for a person: what is wrong and where (which
byte, which event index, which field, which file and line). The CLI turns any of them into
one line on stderr and exit status 2.
"""

from __future__ import annotations


class InspectorError(Exception):
    """Root of every error the engine raises on purpose."""


# --- input ---------------------------------------------------------------------------------


class LoadError(InspectorError):
    """A request could not be read or decoded (missing file, bad base64, bad protobuf...)."""


# --- user code -----------------------------------------------------------------------------


class AppLoadError(InspectorError):
    """The user's APP (file or module) could not be imported."""


class OrchestratorNotFound(InspectorError):
    """The orchestrator named by ``executionStarted`` is not in the user's APP."""


# --- connection ----------------------------------------------------------------------------


class ConnectionConfigError(InspectorError):
    """The connection to a sidecar is misconfigured (a CA file that cannot be read...)."""


class TapError(InspectorError):
    """The tap could not start (the address cannot be served...)."""


# --- replay --------------------------------------------------------------------------------


class ReplayError(InspectorError):
    """The replay cannot proceed as asked (e.g. a response asked of a replay without code)."""


class WorkItemRejected(InspectorError):
    """The app worker's versioning rejects the orchestration's version: no response to write."""


# --- worker --------------------------------------------------------------------------------


class WorkerError(InspectorError):
    """The worker could not start (the APP does not load in a user process, bad options...)."""


__all__ = [
    "AppLoadError",
    "ConnectionConfigError",
    "InspectorError",
    "LoadError",
    "OrchestratorNotFound",
    "ReplayError",
    "TapError",
    "WorkItemRejected",
    "WorkerError",
]
