"""Every error the engine raises, rooted at :class:`InspectorError`.

Each error carries a one-line message meant for a person: what is wrong and where (which
byte, which event index, which field, which file and line).
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


# --- replay --------------------------------------------------------------------------------


class ReplayError(InspectorError):
    """The replay itself could not proceed (a bug or an impossible history)."""
