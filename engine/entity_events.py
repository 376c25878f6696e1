"""Entity history events (calls, signals, locks) as frozen dataclasses.

Kept apart from :mod:`engine.events` because entities are their own concept: the replay derives
what it can from them without code, and their support will grow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from engine.events import FailureDetails, HistoryEvent


@dataclass(frozen=True, slots=True)
class EntityOperationSignaled(HistoryEvent):
    """An entity operation was signalled (fire and forget)."""

    kind: ClassVar[str] = "entityOperationSignaled"
    field_number: ClassVar[int] = 23
    request_id: str = ""
    operation: str = ""
    scheduled_time: datetime | None = None
    input: str | None = None
    target_instance_id: str | None = None

    @property
    def name(self) -> str | None:
        return self.operation

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class EntityOperationCalled(HistoryEvent):
    """An entity operation was called (awaiting a result)."""

    kind: ClassVar[str] = "entityOperationCalled"
    field_number: ClassVar[int] = 24
    request_id: str = ""
    operation: str = ""
    scheduled_time: datetime | None = None
    input: str | None = None
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    target_instance_id: str | None = None

    @property
    def name(self) -> str | None:
        return self.operation

    @property
    def payload(self) -> str | None:
        return self.input


@dataclass(frozen=True, slots=True)
class EntityOperationCompleted(HistoryEvent):
    """An entity operation returned a result."""

    kind: ClassVar[str] = "entityOperationCompleted"
    field_number: ClassVar[int] = 25
    request_id: str = ""
    output: str | None = None

    @property
    def payload(self) -> str | None:
        return self.output


@dataclass(frozen=True, slots=True)
class EntityOperationFailed(HistoryEvent):
    """An entity operation failed."""

    kind: ClassVar[str] = "entityOperationFailed"
    field_number: ClassVar[int] = 26
    request_id: str = ""
    failure: FailureDetails | None = None

    @property
    def payload(self) -> str | None:
        failure = self.failure
        return None if failure is None else f"{failure.error_type}: {failure.message}"


@dataclass(frozen=True, slots=True)
class EntityLockRequested(HistoryEvent):
    """Entity locks were requested for a critical section."""

    kind: ClassVar[str] = "entityLockRequested"
    field_number: ClassVar[int] = 27
    critical_section_id: str = ""
    lock_set: tuple[str, ...] = ()
    position: int = 0
    parent_instance_id: str | None = None

    @property
    def name(self) -> str | None:
        return self.critical_section_id


@dataclass(frozen=True, slots=True)
class EntityLockGranted(HistoryEvent):
    """Entity locks were granted."""

    kind: ClassVar[str] = "entityLockGranted"
    field_number: ClassVar[int] = 28
    critical_section_id: str = ""

    @property
    def name(self) -> str | None:
        return self.critical_section_id


@dataclass(frozen=True, slots=True)
class EntityUnlockSent(HistoryEvent):
    """An entity lock was released."""

    kind: ClassVar[str] = "entityUnlockSent"
    field_number: ClassVar[int] = 29
    critical_section_id: str = ""
    parent_instance_id: str | None = None
    target_instance_id: str | None = None

    @property
    def name(self) -> str | None:
        return self.critical_section_id
