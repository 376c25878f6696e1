"""The colours that carry meaning: an orchestration's status and a work item's outcome.

The stepper's state pane and the live instance list colour a status the same way; the live
work-item list colours an outcome. Every widget asks here (Rich style strings, no imports).
"""

from __future__ import annotations

STATUS_STYLES = {
    "RUNNING": "bold green",
    "COMPLETED": "bold cyan",
    "FAILED": "bold red",
    "TERMINATED": "bold red",
    "SUSPENDED": "bold yellow",
    "CONTINUED_AS_NEW": "bold magenta",
    "PENDING": "dim",
}
"""An orchestration status (``RUNNING``...) and its style."""

OUTCOME_STYLES = {
    "running": "cyan",
    "held": "bold reverse yellow",
    "completed": "green",
    "failed": "bold red",
    "abandoned": "yellow",
    "undelivered": "bold red",
}
"""A work item's outcome, as the work-item list words it, and its style."""

CONNECTED = "green"
"""A connection that works."""

TROUBLE = "bold yellow"
"""A connection being made again, or a state that needs the user's eye."""


def status_style(status: str) -> str:
    """The style of an orchestration status (bold for one without a colour of its own)."""
    return STATUS_STYLES.get(status, "bold")


def outcome_style(label: str) -> str:
    """The style of a work item's outcome (``running``, ``completed``...)."""
    return OUTCOME_STYLES.get(label, "")
