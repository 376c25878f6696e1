"""``--record DIR``: every work item's request and the worker's response, as base64 files.

Orchestrator turns are written as ``<n>-<instance>-turn.b64`` (an ``OrchestratorRequest``, which
``inspector open`` and ``inspector replay`` read) and ``<n>-<instance>-turn.response.b64`` (the
``OrchestratorResponse`` sent). Activities are ``<n>-<instance>-activity-<name>.b64``
(``ActivityRequest``) and ``.response.b64`` (``ActivityResponse``). An abandoned work item has
an ``.abandoned`` note instead of a response.
"""

from __future__ import annotations

import base64
import re
import threading
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]+")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)[:120] or "_"


class Recorder:
    """Writes capture files into one folder.

    Args:
        folder: Where to write (created if missing).
    """

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def stem(self, number: int, kind: str, instance_id: str, name: str) -> str:
        """The file stem of one work item."""
        if kind == "turn":
            return f"{number:06d}-{_safe(instance_id)}-turn"
        if kind == "entity":
            return f"{number:06d}-{_safe(instance_id)}-entity"
        return f"{number:06d}-{_safe(instance_id)}-activity-{_safe(name)}"

    def _write(self, name: str, data: bytes) -> None:
        path = self.folder / name
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(base64.b64encode(data) + b"\n")
        tmp.replace(path)

    def request(self, stem: str, data: bytes) -> None:
        """Save a request."""
        self._write(f"{stem}.b64", data)

    def response(self, stem: str, data: bytes) -> None:
        """Save the response sent for a request."""
        self._write(f"{stem}.response.b64", data)

    def abandoned(self, stem: str, reason: str) -> None:
        """Note that a request was given back to the sidecar."""
        (self.folder / f"{stem}.abandoned").write_text(reason + "\n")
