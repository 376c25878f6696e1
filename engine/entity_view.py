"""Step an entity batch one operation at a time (what the entity-batch view shows).

:func:`load_entity_item` reads an entity work item (a ``WorkItem`` holding ``entityRequest`` or
``entityRequestV2``, as ``inspector worker --record`` saves it); :class:`BatchStepper` runs it
with the APP's entities and moves a position over its operations, forwards and backwards.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from engine.app_loader import UserApp
from engine.entity_batch import BatchOutcome, OperationStep, run_batch
from engine.load import read_source
from engine.proto import orchestrator_service_pb2 as pb


def load_entity_item(source: str | os.PathLike[str] | bytes) -> pb.WorkItem | None:
    """The entity work item in ``source`` (base64 or binary), ``None`` if it holds none.

    Raises:
        LoadError: the file cannot be read.
    """
    data, _ = read_source(source)
    compact = b"".join(data.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raw = data
    try:
        item = pb.WorkItem.FromString(raw)
    except DecodeError:
        return None
    if item.HasField("entityRequest") or item.HasField("entityRequestV2"):
        return item
    return None


@dataclass(frozen=True, slots=True)
class BatchPosition:
    """Where the stepper stands: before the first operation (``index`` -1) or after one."""

    index: int
    total: int
    step: OperationStep | None
    state: str | None
    """The entity's state at this position (after the operation; the start state at -1)."""


class BatchStepper:
    """A batch run once, stepped over by position.

    Args:
        item: The entity work item.
        app: The APP whose entities run it (``None``: none; every operation fails as the SDK's
            worker fails an unregistered entity).
    """

    def __init__(self, item: pb.WorkItem, app: UserApp | None) -> None:
        self.item = item
        self.outcome: BatchOutcome = run_batch(app.entities if app else {}, item)
        self.index = -1

    @classmethod
    def from_bytes(cls, data: bytes, app: UserApp | None) -> BatchStepper:
        """A stepper on a serialized entity ``WorkItem`` (as the worker reports it)."""
        return cls(pb.WorkItem.FromString(data), app)

    @property
    def entity_id(self) -> str:
        """The entity's id (``@name@key``)."""
        return self.outcome.entity_id

    @property
    def steps(self) -> tuple[OperationStep, ...]:
        """One step per operation, in order."""
        return self.outcome.steps

    def position(self) -> BatchPosition:
        """The current position."""
        steps = self.outcome.steps
        if self.index < 0:
            start = steps[0].state_before if steps else None
            return BatchPosition(-1, len(steps), None, start)
        step = steps[self.index]
        return BatchPosition(self.index, len(steps), step, step.state_after)

    def move(self, delta: int) -> BatchPosition:
        """Step ``delta`` operations (negative: back), within the batch."""
        self.index = max(-1, min(len(self.outcome.steps) - 1, self.index + delta))
        return self.position()

    def go(self, index: int) -> BatchPosition:
        """Go to operation ``index`` (``-1``: before the first; past the end: the last)."""
        self.index = max(-1, min(len(self.outcome.steps) - 1, index))
        return self.position()


__all__ = ["BatchPosition", "BatchStepper", "load_entity_item"]
