"""The stepper's key tables and the small jobs its keys do that need no widget."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from pathlib import Path

from textual.binding import Binding, BindingType

from engine import history as h
from engine.savefile import bounded, save_set
from engine.session import ReplaySession

NARROW_PANES = ("source", "problem", "actions", "detail")
"""The panes that share the lower right below 120 columns, in the order ``v`` shows them."""

PANE_NAMES = {
    "source": "source",
    "problem": "problem",
    "actions": "pending",
    "detail": "selected event",
}
PANE_SELECTORS = {
    "source": "#code",
    "problem": "#problem",
    "actions": "#actions",
    "detail": "#detail",
}

PANE_TOOLTIP = "Show the next pane (below 120 columns: source, pending, selected event)"


def event_classes() -> list[type[h.HistoryEvent]]:
    return [
        cls
        for cls in vars(h).values()
        if isinstance(cls, type) and issubclass(cls, h.HistoryEvent) and cls.kind
    ]


KEY_LABELS = {"slash": "/", "question_mark": "?"}


def key_label(keys: str) -> str:
    """A binding's keys as a user types them: ``n / right``, ``/``, ``?``."""
    return " / ".join(KEY_LABELS.get(k.strip(), k.strip()) for k in keys.split(","))


def key_help(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """Every key of the stepper (its ``bindings``, then the history's), with its description."""
    keys: list[tuple[str, str]] = []
    for binding in bindings:
        assert isinstance(binding, Binding)
        keys.append((key_label(binding.key), binding.tooltip or binding.description))
    keys += [
        ("up / down", "Select an event in the history"),
        ("pageup / pagedown", "Select a screen up or down"),
        ("enter", "Replay to the selected event"),
        ("ctrl+p", "Command palette (every action above)"),
    ]
    return keys


def write_request_files(session: ReplaySession, instance_id: str, folder: Path) -> list[str]:
    """Write the request (and with code, the response) as base64 files in ``folder``.

    Never over an existing file (a taken name gets ``-2``, ``-3`` ...), never through a
    symlink (:func:`engine.savefile.save_set`). Returns the paths written; raises ``OSError``
    when the folder cannot take them.
    """
    stem = bounded(re.sub(r"[^A-Za-z0-9._-]+", "_", instance_id) or "request", instance_id, 200)
    files = {".request.b64": base64.b64encode(session.request.proto.SerializeToString()) + b"\n"}
    if session.app is not None:
        response = session.outcome().response.SerializeToString()
        files[".response.b64"] = base64.b64encode(response) + b"\n"
    return [str(path) for path in save_set(folder, stem, files)]
