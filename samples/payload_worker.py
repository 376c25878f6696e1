"""An app whose worker keeps large payloads in a store (``TaskHubGrpcWorker(payload_store=...)``).

``--app samples.payload_worker:worker``. :class:`FolderStore` keeps each payload over 1 KiB in a
file of the folder ``$PAYLOAD_STORE_DIR`` (default: ``payload-store`` in the system's temporary
folder) and puts a ``folder:v1:<name>`` token in the message instead; the worker resolves tokens
in what it receives and advertises the large-payloads capability, as the SDK's worker does.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

from durabletask import task
from durabletask.payload.store import LargePayloadStorageOptions, PayloadStore
from durabletask.worker import TaskHubGrpcWorker

PREFIX = "folder:v1:"


class FolderStore(PayloadStore):
    """Payloads as files in one folder, named by their SHA-256."""

    def __init__(self, folder: str | None = None, threshold_bytes: int = 1024) -> None:
        default = Path(tempfile.gettempdir()) / "payload-store"
        self.folder = Path(folder or os.environ.get("PAYLOAD_STORE_DIR") or default)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._options = LargePayloadStorageOptions(
            threshold_bytes=threshold_bytes, enable_compression=False
        )

    @property
    def options(self) -> LargePayloadStorageOptions:
        return self._options

    def upload(self, data: bytes, *, instance_id: str | None = None) -> str:
        name = hashlib.sha256(data).hexdigest()
        (self.folder / name).write_bytes(data)
        return PREFIX + name

    async def upload_async(self, data: bytes, *, instance_id: str | None = None) -> str:
        return self.upload(data, instance_id=instance_id)

    def download(self, token: str) -> bytes:
        return (self.folder / token[len(PREFIX) :]).read_bytes()

    async def download_async(self, token: str) -> bytes:
        return self.download(token)

    def is_known_token(self, value: str) -> bool:
        return value.startswith(PREFIX)


def echo_twice(ctx: task.ActivityContext, text: str) -> str:
    """A result twice as large as its input."""
    return text + text


def big(ctx: task.OrchestrationContext, text: str) -> Generator[Any, Any, dict[str, int]]:
    """Send a large input through an activity; return the sizes it saw."""
    doubled = yield ctx.call_activity(echo_twice, input=text)
    return {"input": len(text), "result": len(doubled)}


def build_worker(host_address: str | None = None) -> TaskHubGrpcWorker:
    """The app's worker, configured (not started)."""
    w = TaskHubGrpcWorker(host_address=host_address, payload_store=FolderStore())
    w.add_orchestrator(big)
    w.add_activity(echo_twice)
    return w


worker = build_worker()
