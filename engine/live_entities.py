"""The entities a sidecar holds, and their state, for the live view (``QueryEntities``).

:func:`query_entities` pages through ``QueryEntities`` (state included, transient entities
too: a locked entity with no state is still shown) and returns :class:`EntityRow` values, with
the instance id split into the entity's name and key. A sidecar that does not offer entity
queries answers ``UNIMPLEMENTED``; :func:`unsupported` tells that apart from other failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import grpc
from google.protobuf import wrappers_pb2

from engine.proto import orchestrator_service_pb2 as pb

PAGE_SIZE = 100
"""Entities asked for per ``QueryEntities`` call."""

MAX_ENTITIES = 1000
"""The most entities one listing returns (the rest are counted as not shown)."""


@dataclass(frozen=True, slots=True)
class EntityRow:
    """One entity as the sidecar describes it."""

    instance_id: str
    """The entity's id, ``@name@key``."""
    name: str
    """The entity's name (the part between the first two ``@``)."""
    key: str
    """The entity's key."""
    last_modified: datetime | None
    """When its state last changed (aware UTC; ``None``: the sidecar did not say)."""
    backlog: int
    """Operations waiting for it (``backlogQueueSize``)."""
    locked_by: str | None
    """Who holds its lock, as the sidecar says it (an orchestration or a critical section)."""
    state: str | None
    """Its state as JSON text (``None``: no state, e.g. after ``delete``)."""

    @classmethod
    def from_proto(cls, msg: Any) -> EntityRow:
        """Build from an ``EntityMetadata`` message."""
        instance_id = msg.instanceId
        name, _, key = instance_id.removeprefix("@").partition("@")
        modified = None
        if msg.HasField("lastModifiedTime"):
            stamp = msg.lastModifiedTime
            if stamp.seconds or stamp.nanos:
                modified = stamp.ToDatetime(tzinfo=timezone.utc)
        return cls(
            instance_id=instance_id,
            name=name,
            key=key,
            last_modified=modified,
            backlog=msg.backlogQueueSize,
            locked_by=msg.lockedBy.value if msg.HasField("lockedBy") else None,
            state=msg.serializedState.value if msg.HasField("serializedState") else None,
        )


@dataclass(frozen=True, slots=True)
class EntityListing:
    """The entities one listing found."""

    rows: tuple[EntityRow, ...]
    """Sorted by id."""
    more: bool
    """Whether the sidecar had more than :data:`MAX_ENTITIES` (only the first are listed)."""


def query_entities(
    stub: Any,
    metadata: Any,
    timeout: float,
    *,
    prefix: str = "",
    page_size: int = PAGE_SIZE,
    limit: int = MAX_ENTITIES,
) -> EntityListing:
    """Every entity whose id starts with ``prefix`` (up to ``limit``), with its state.

    Raises:
        grpc.RpcError: the sidecar failed, or does not offer ``QueryEntities`` (see
            :func:`unsupported`).
    """
    rows: list[EntityRow] = []
    token = ""
    more = False
    while True:
        query = pb.EntityQuery(includeState=True, includeTransient=True)
        query.pageSize.CopyFrom(wrappers_pb2.Int32Value(value=page_size))
        if prefix:
            query.instanceIdStartsWith.CopyFrom(wrappers_pb2.StringValue(value=prefix))
        if token:
            query.continuationToken.CopyFrom(wrappers_pb2.StringValue(value=token))
        response = stub.query_entities(
            pb.QueryEntitiesRequest(query=query), timeout=timeout, metadata=metadata
        )
        rows.extend(EntityRow.from_proto(e) for e in response.entities)
        next_token = (
            response.continuationToken.value if response.HasField("continuationToken") else ""
        )
        if not next_token or next_token == token:
            more = len(rows) > limit
            break
        if len(rows) >= limit:
            more = True
            break
        token = next_token
    rows.sort(key=lambda r: r.instance_id)
    return EntityListing(tuple(rows[:limit]), more)


def unsupported(err: grpc.RpcError) -> bool:
    """Whether a failed ``QueryEntities`` means the sidecar does not offer entity queries."""
    code = err.code() if hasattr(err, "code") else None
    return bool(code == grpc.StatusCode.UNIMPLEMENTED)
