"""Headless live access to a sidecar: its instances, their histories, and hold rules.

What ``inspector attach`` shows comes from here, so it can be tested without a terminal:

- :class:`LiveClient` lists instances (``QueryInstances``, every page via the continuation
  token, filtered by status and name), reads an instance's history (``StreamInstanceHistory``,
  or what ``GetInstance`` tells where the sidecar lacks it) and builds the
  ``OrchestratorRequest`` a worker would receive for it (:func:`build_request`).
- :class:`~engine.channel.Backoff` (re-exported here) is the reconnect delay the worker uses
  too; the channel comes from :mod:`engine.channel`.
- :func:`turn_request` and :func:`work_item_json` turn a live work item's bytes into what the
  stepper and the activity view show.
- :class:`HoldRule` and :func:`matches_any` live in :mod:`engine.holds` (re-exported here).

This module never imports Textual or Rich.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import grpc
from google.protobuf import json_format, timestamp_pb2, wrappers_pb2
from google.protobuf.message import Message

from engine.channel import Backoff as Backoff
from engine.channel import ConnectionOptions, open_channel
from engine.history import (
    STATUS_NAMES,
    OrchestrationRequest,
    execution_started,
    status_name,
    timestamp_to_datetime,
)
from engine.holds import HoldRule as HoldRule  # moved to engine.holds, still importable here
from engine.holds import matches_any as matches_any
from engine.live_actions import InstanceActions
from engine.live_entities import EntityListing, query_entities
from engine.load import to_request
from engine.proto import orchestrator_service_pb2 as pb
from engine.sidecar import SidecarStub

CALL_TIMEOUT = 10.0
"""Deadline of one query or history call, in seconds."""

PAGE_SIZE = 1000
"""Instances asked for per ``QueryInstances`` page (a sidecar may answer fewer)."""

MAX_INSTANCES = 100_000
"""At most this many instances are listed."""

_NO_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)

_TERMINAL = {
    pb.ORCHESTRATION_STATUS_COMPLETED,
    pb.ORCHESTRATION_STATUS_FAILED,
    pb.ORCHESTRATION_STATUS_TERMINATED,
    pb.ORCHESTRATION_STATUS_CANCELED,
}


def status_value(name: str) -> int:
    """The ``OrchestrationStatus`` number of a short name (``running``, ``COMPLETED``...).

    Raises:
        ValueError: no status has that name.
    """
    wanted = name.strip().upper()
    for value, text in STATUS_NAMES.items():
        if text == wanted:
            return value
    raise ValueError(f"unknown status {name!r}")


@dataclass(frozen=True)
class InstanceRow:
    """One orchestration instance as the sidecar reports it."""

    instance_id: str
    name: str
    version: str
    status: str
    created: datetime | None
    last_updated: datetime | None
    custom_status: str
    execution_id: str = ""

    @classmethod
    def from_proto(cls, state: pb.OrchestrationState) -> InstanceRow:
        """Read an ``OrchestrationState``."""
        return cls(
            instance_id=state.instanceId,
            name=state.name,
            version=state.version.value if state.HasField("version") else "",
            status=status_name(state.orchestrationStatus),
            created=_when(state, "createdTimestamp"),
            last_updated=_when(state, "lastUpdatedTimestamp"),
            custom_status=state.customStatus.value if state.HasField("customStatus") else "",
            execution_id=state.executionId.value if state.HasField("executionId") else "",
        )


def newest_first(row: InstanceRow) -> tuple[bool, datetime, str]:
    """The sort key of the instance lists, ``reverse=True``: the newest first, then by id."""
    return (row.created is not None, row.created or _NO_TIME, row.instance_id)


def _when(msg: pb.OrchestrationState, field: str) -> datetime | None:
    if not msg.HasField(field):
        return None
    ts = getattr(msg, field)
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return timestamp_to_datetime(ts)


@dataclass(frozen=True)
class History:
    """An instance's history and where it came from."""

    instance_id: str
    events: list[pb.HistoryEvent]
    source: str
    """``StreamInstanceHistory``, or ``GetInstance`` when the history had to be inferred."""
    state: pb.OrchestrationState | None = None


class LiveClient:
    """Reads instances and histories from a sidecar.

    Args:
        address: ``HOST:PORT`` of the sidecar.
        tls: Connect with TLS.
        ca_file: PEM roots to trust (TLS only).
        headers: Metadata sent with every call (values are secrets: never printed).
        timeout: Deadline of each call, in seconds.
        dialect: ``dapr`` for a Dapr sidecar: histories come from its unary
            ``GetInstanceHistory`` (read in Dapr's dialect), not ``StreamInstanceHistory``.

    Raises:
        ConnectionConfigError: the CA file cannot be read or holds no certificate.
    """

    def __init__(
        self,
        address: str,
        *,
        tls: bool = False,
        ca_file: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        timeout: float = CALL_TIMEOUT,
        dialect: str = "durabletask",
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.dialect = dialect
        connection = ConnectionOptions(
            address, tls=tls, ca_file=ca_file, headers=tuple(headers), dialect=dialect
        )
        self._metadata = connection.metadata()
        self._channel = open_channel(connection)
        self.stub = SidecarStub(self._channel)
        self.actions = InstanceActions(self.stub, self._metadata, timeout)
        """Raise, suspend, resume, terminate, purge, restart, rewind, schedule."""

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def hello(self) -> None:
        """Check the sidecar answers (raises ``grpc.RpcError`` otherwise)."""
        self.stub.hello(timeout=self.timeout, metadata=self._metadata)

    def query_instances(
        self,
        *,
        statuses: Iterable[int] = (),
        name: str = "",
        prefix: str = "",
        page_size: int = PAGE_SIZE,
        limit: int = MAX_INSTANCES,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        known: Mapping[str, InstanceRow] | None = None,
    ) -> list[InstanceRow]:
        """Every instance matching the filters, newest first.

        Args:
            statuses: Only these ``OrchestrationStatus`` values (empty: all).
            name: Only instances whose orchestrator name contains this (case-insensitive).
            prefix: Only instance ids starting with this (asked of the sidecar).
            page_size: Instances per ``QueryInstances`` call.
            limit: Stop after this many instances.
            created_from: Only instances created at or after this (asked of the sidecar).
            created_to: Only instances created before this (asked of the sidecar).
            known: Rows listed before, by instance id: a row answered equal to its known one
                is that one (the same object). A full listing then makes few new objects for
                the cyclic collector to carry, however many instances there are.
        """
        known = known or {}
        rows: list[InstanceRow] = []
        token = ""
        wanted = name.lower()
        while True:
            query = pb.InstanceQuery(maxInstanceCount=page_size)
            query.runtimeStatus.extend(statuses)
            if created_from is not None:
                query.createdTimeFrom.FromDatetime(created_from)
            if created_to is not None:
                query.createdTimeTo.FromDatetime(created_to)
            if prefix:
                query.instanceIdPrefix.CopyFrom(wrappers_pb2.StringValue(value=prefix))
            if token:
                query.continuationToken.CopyFrom(wrappers_pb2.StringValue(value=token))
            response = self.stub.query_instances(
                pb.QueryInstancesRequest(query=query),
                timeout=self.timeout,
                metadata=self._metadata,
            )
            for state in response.orchestrationState:
                if wanted and wanted not in state.name.lower():
                    continue
                row = InstanceRow.from_proto(state)
                before = known.get(row.instance_id)
                rows.append(before if before is not None and before == row else row)
            next_token = (
                response.continuationToken.value if response.HasField("continuationToken") else ""
            )
            if not next_token or next_token == token or len(rows) >= limit:
                break
            token = next_token
        rows.sort(key=newest_first, reverse=True)
        return rows[:limit]

    def entities(self, prefix: str = "") -> EntityListing:
        """The sidecar's entities whose id starts with ``prefix``, with their state.

        Raises:
            grpc.RpcError: the sidecar failed or offers no ``QueryEntities``.
        """
        return query_entities(self.stub, self._metadata, self.timeout, prefix=prefix)

    def instances_by_id(
        self, instance_ids: Iterable[str], *, statuses: Iterable[int] = (), name: str = ""
    ) -> list[InstanceRow]:
        """The instances of these ids that exist (``GetInstance`` each), newest first.

        For sidecars without ``QueryInstances``; the filters apply as they would there.
        """
        wanted = set(statuses)
        rows = []
        for instance_id in dict.fromkeys(instance_ids):
            state = self.get_instance(instance_id)
            if state is None or (wanted and state.orchestrationStatus not in wanted):
                continue
            if name and name.lower() not in state.name.lower():
                continue
            rows.append(InstanceRow.from_proto(state))
        rows.sort(key=newest_first, reverse=True)
        return rows

    def get_instance(self, instance_id: str) -> pb.OrchestrationState | None:
        """The instance's state (with inputs and outputs), or None if it does not exist."""
        response = self.stub.get_instance(
            pb.GetInstanceRequest(instanceId=instance_id, getInputsAndOutputs=True),
            timeout=self.timeout,
            metadata=self._metadata,
        )
        return response.orchestrationState if response.exists else None

    def history(self, instance_id: str, execution_id: str = "") -> History:
        """The instance's history, oldest event first.

        ``StreamInstanceHistory`` where the sidecar has it; where it answers UNIMPLEMENTED,
        the history a worker would start from is inferred from ``GetInstance``
        (``orchestratorStarted``, ``executionStarted`` and, when terminal,
        ``executionCompleted``).

        Raises:
            LookupError: the instance does not exist.
            grpc.RpcError: the sidecar failed otherwise.
        """
        if self.dialect == "dapr":
            return self._dapr_history(instance_id)
        request = pb.StreamInstanceHistoryRequest(instanceId=instance_id)
        if execution_id:
            request.executionId.CopyFrom(wrappers_pb2.StringValue(value=execution_id))
        try:
            events: list[pb.HistoryEvent] = []
            stream = self.stub.stream_instance_history(
                request, timeout=self.timeout, metadata=self._metadata
            )
            for chunk in stream:
                events.extend(chunk.events)
            return History(instance_id, events, "StreamInstanceHistory")
        except grpc.RpcError as err:
            code = err.code() if hasattr(err, "code") else None
            if code == grpc.StatusCode.NOT_FOUND:
                raise LookupError(f"no instance {instance_id!r}") from None
            if code != grpc.StatusCode.UNIMPLEMENTED:
                raise
        state = self.get_instance(instance_id)
        if state is None:
            raise LookupError(f"no instance {instance_id!r}")
        return History(instance_id, history_from_state(state), "GetInstance", state)

    def _dapr_history(self, instance_id: str) -> History:
        """A Dapr sidecar's history (``GetInstanceHistory``), as Microsoft-shaped events."""
        try:
            events = self.stub.get_instance_history(
                instance_id, timeout=self.timeout, metadata=self._metadata
            )
        except grpc.RpcError as err:
            if hasattr(err, "code") and err.code() == grpc.StatusCode.NOT_FOUND:
                raise LookupError(f"no instance {instance_id!r}") from None
            raise
        return History(instance_id, events, "GetInstanceHistory")

    def request_for(self, instance_id: str) -> tuple[pb.OrchestratorRequest, History]:
        """The ``OrchestratorRequest`` a worker would receive for the instance now."""
        history = self.history(instance_id)
        return build_request(instance_id, history.events), history


def history_from_state(state: pb.OrchestrationState) -> list[pb.HistoryEvent]:
    """The history implied by an instance's state alone (for sidecars without history)."""
    created = state.createdTimestamp if state.HasField("createdTimestamp") else None
    events = [pb.HistoryEvent(eventId=-1, orchestratorStarted=pb.OrchestratorStartedEvent())]
    started = pb.ExecutionStartedEvent(name=state.name)
    if state.HasField("version"):
        started.version.CopyFrom(state.version)
    if state.HasField("input"):
        started.input.CopyFrom(state.input)
    started.orchestrationInstance.instanceId = state.instanceId
    if state.HasField("executionId"):
        started.orchestrationInstance.executionId.CopyFrom(state.executionId)
    events.append(pb.HistoryEvent(eventId=-1, executionStarted=started))
    if state.orchestrationStatus in _TERMINAL:
        done = pb.ExecutionCompletedEvent(orchestrationStatus=state.orchestrationStatus)
        if state.HasField("output"):
            done.result.CopyFrom(state.output)
        if state.HasField("failureDetails"):
            done.failureDetails.CopyFrom(state.failureDetails)
        events.append(pb.HistoryEvent(eventId=-1, executionCompleted=done))
    if created is not None:
        for event in events:
            event.timestamp.CopyFrom(created)
        if state.HasField("lastUpdatedTimestamp") and len(events) > 2:
            events[-1].timestamp.CopyFrom(state.lastUpdatedTimestamp)
    return events


def build_request(
    instance_id: str, events: Sequence[pb.HistoryEvent], execution_id: str = ""
) -> pb.OrchestratorRequest:
    """The request a worker would receive for this history.

    Everything up to and including the last ``orchestratorCompleted`` was already processed
    by a worker: those are the past events. What follows it (events the sidecar appended
    since, not yet answered) is new, except the ``executionCompleted`` that the last turn
    itself produced, which sidecars append right after it. A history with no
    ``orchestratorCompleted`` at all has never been processed: all of it is new.
    """
    last_done = -1
    for index, event in enumerate(events):
        if event.WhichOneof("eventType") == "orchestratorCompleted":
            last_done = index
    # Sidecars record the completion a turn produced after its orchestratorCompleted.
    while (
        0 <= last_done < len(events) - 1
        and events[last_done + 1].WhichOneof("eventType") == "executionCompleted"
    ):
        last_done += 1
    request = pb.OrchestratorRequest(instanceId=instance_id)
    request.pastEvents.extend(events[: last_done + 1])
    request.newEvents.extend(events[last_done + 1 :])
    exec_id = execution_id or _execution_id(events)
    if exec_id:
        request.executionId.CopyFrom(wrappers_pb2.StringValue(value=exec_id))
    return request


def _execution_id(events: Sequence[pb.HistoryEvent]) -> str:
    started = execution_started(events)
    if started is None or not started.orchestrationInstance.HasField("executionId"):
        return ""
    return str(started.orchestrationInstance.executionId.value)


def read_instance(client: LiveClient, instance_id: str) -> tuple[OrchestrationRequest, str]:
    """The request a worker would receive for the instance now, and where its history came from.

    Raises:
        LookupError: the instance does not exist.
        grpc.RpcError: the sidecar failed otherwise.
        InspectorError: the history is not a request the engine can replay.
    """
    request, history = client.request_for(instance_id)
    return to_request(request, f"instance {request.instanceId}"), history.source


def turn_request(data: bytes, where: str) -> OrchestrationRequest:
    """A live turn's serialized ``OrchestratorRequest`` as the request the stepper replays.

    Raises:
        InspectorError: the request is not one the engine can replay (``where`` names it).
    """
    return to_request(pb.OrchestratorRequest.FromString(data), where)


def work_item_json(
    kind: str, request: bytes, response: bytes
) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    """A work item's serialized request and response in the protobuf JSON mapping.

    Args:
        kind: ``orchestrator``, ``activity`` or ``entity`` (as
            :class:`~engine.worker.WorkItemEvent` says; an entity's request is its ``WorkItem``).
        request: The serialized request (empty: none).
        response: The serialized response (empty: none).
    """
    types: tuple[type[Message], type[Message]] = (
        (pb.OrchestratorRequest, pb.OrchestratorResponse)
        if kind == "orchestrator"
        else (pb.WorkItem, pb.EntityBatchResult)
        if kind == "entity"
        else (pb.ActivityRequest, pb.ActivityResponse)
    )
    out: list[dict[str, object] | None] = []
    for cls, data in zip(types, (request, response), strict=True):
        out.append(json_format.MessageToDict(cls.FromString(data)) if data else None)
    return out[0], out[1]


def now_timestamp() -> timestamp_pb2.Timestamp:
    """The current time as a protobuf ``Timestamp``."""
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts
