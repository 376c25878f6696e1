"""``--record DIR``: every work item's request and the worker's response, as base64 files.

Orchestrator turns are written as ``<n>-<instance>-turn.b64`` (an ``OrchestratorRequest``, which
``inspector open`` and ``inspector replay`` read) and ``<n>-<instance>-turn.response.b64`` (the
``OrchestratorResponse`` sent). Activities are ``<n>-<instance>-activity-<name>.b64``
(``ActivityRequest``) and ``.response.b64`` (``ActivityResponse``). An abandoned work item has
an ``.abandoned`` note instead of a response.

Names are safe and bounded: characters outside ``A-Za-z0-9._:@-`` become ``_``, and an instance
id or a name longer than :data:`NAME_PART` characters is cut and ends with a hash of the whole
(``~`` and 12 hex digits), so every file name stays far below the usual 255-byte limit.
Recording never costs a work item: the first write that fails is logged, and recording is
suspended from then on.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from pathlib import Path

from engine.savefile import bounded, replace_file

_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]+")

NAME_PART = 80
"""Longest instance id or name part of a capture file name, in characters (all ASCII)."""


def _safe(text: str) -> str:
    return bounded(_UNSAFE.sub("_", text) or "_", text, NAME_PART)


class Recorder:
    """Writes capture files into one folder.

    Args:
        folder: Where to write (created if missing).
        log: Told once, when a write fails and recording is suspended.
    """

    def __init__(self, folder: str, log: Callable[[str], None] | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._log = log or (lambda text: None)
        self._lock = threading.Lock()
        self.suspended = False
        """Whether a write failed (nothing more is written)."""

    @staticmethod
    def stem(number: int, kind: str, instance_id: str, name: str) -> str:
        """The file stem of one work item."""
        if kind == "turn":
            return f"{number:06d}-{_safe(instance_id)}-turn"
        if kind == "entity":
            return f"{number:06d}-{_safe(instance_id)}-entity"
        return f"{number:06d}-{_safe(instance_id)}-activity-{_safe(name)}"

    def _write(self, name: str, data: bytes) -> None:
        if self.suspended:
            return
        try:
            replace_file(self.folder / name, data)
        except OSError as err:
            with self._lock:
                first = not self.suspended
                self.suspended = True
            if first:
                reason = err.strerror or type(err).__name__
                self._log(f"recording suspended: cannot write {self.folder / name}: {reason}")

    def request(self, stem: str, data: bytes) -> None:
        """Save a request."""
        self._write(f"{stem}.b64", base64.b64encode(data) + b"\n")

    def response(self, stem: str, data: bytes) -> None:
        """Save the response sent for a request."""
        self._write(f"{stem}.response.b64", base64.b64encode(data) + b"\n")

    def abandoned(self, stem: str, reason: str) -> None:
        """Note that a request was given back to the sidecar."""
        self._write(f"{stem}.abandoned", (reason + "\n").encode("utf-8", "replace"))
