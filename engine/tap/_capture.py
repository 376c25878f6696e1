"""Capture: the work items seen on ``GetWorkItems`` paired with their completions by token.

The forwarding threads only put the original bytes on a queue; one capture thread decodes,
pairs, records and reports, so a message we cannot decode never slows or breaks a call.
A work item is queued before it is forwarded, so it is always ahead of its completion.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import grpc

from engine.proto import orchestrator_service_pb2 as pb
from engine.tap._forward import SERVICE
from engine.tap._wire import string_field
from engine.worker import (
    Outcome,
    Recorder,
    WorkItemEvent,
    activity_summary,
    orchestrator_name,
    turn_failed,
    turn_summary,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]+")

# path -> (kind, field number of the completion token in the request, abandon?)
_COMPLETIONS: dict[str, tuple[str, int, bool]] = {
    SERVICE + "CompleteOrchestratorTask": ("orchestrator", 4, False),
    SERVICE + "CompleteActivityTask": ("activity", 5, False),
    SERVICE + "CompleteEntityTask": ("entity", 5, False),
    SERVICE + "AbandonTaskOrchestratorWorkItem": ("orchestrator", 1, True),
    SERVICE + "AbandonTaskActivityWorkItem": ("activity", 1, True),
    SERVICE + "AbandonTaskEntityWorkItem": ("entity", 1, True),
}


@dataclass
class TapStats:
    """Counters over the tap's life."""

    received: int = 0
    completed: int = 0
    failed: int = 0
    abandoned: int = 0
    undelivered: int = 0
    unpaired: int = 0
    """Completions whose token matched no work item seen (sent before the tap started)."""
    undecodable: int = 0

    def summary(self, open_items: int) -> str:
        """The closing log line."""
        return (
            f"{self.received} work items received, {self.completed} completed, "
            f"{self.failed} failed, {self.abandoned} abandoned, {self.undelivered} undelivered, "
            f"{open_items} open"
            + (f", {self.unpaired} unpaired completions" if self.unpaired else "")
            + (f", {self.undecodable} undecodable messages" if self.undecodable else "")
        )


@dataclass
class _Open:
    number: int
    kind: str
    instance_id: str
    name: str
    request: bytes
    token: str
    received: float
    peer: str
    stem: str = ""


class Capture:
    """Pairs work items and completions, records them and reports :class:`WorkItemEvent`s.

    Every event is reported from the capture thread, in the order the messages were seen;
    :attr:`WorkItemEvent.worker` is the peer of the worker that served the work item.

    Args:
        on_event: Called (on the capture thread) for every finished work item.
        on_received: Called (on the capture thread) when a work item arrives.
        record_dir: Write every request and response here, as ``inspector worker`` does.
        log: Called with notices (undecodable messages).
        on_idle: Called (on the capture thread) once what was handed over so far is all
            reported: where reports are batched (log lines), the moment to write them out.
    """

    def __init__(
        self,
        on_event: Callable[[WorkItemEvent], None] | None = None,
        on_received: Callable[[WorkItemEvent], None] | None = None,
        record_dir: str | None = None,
        log: Callable[[str], None] | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self._on_event = on_event
        self._on_idle = on_idle
        self._on_received = on_received
        self._log = log or (lambda text: None)
        self._recorder = Recorder(record_dir) if record_dir else None
        self._queue: queue.SimpleQueue[tuple[object, ...] | None] = queue.SimpleQueue()
        # Keyed by kind too: a sidecar may reuse one token across kinds (the in-memory one does),
        # and redeliver an abandoned work item with its token before the abandon is answered:
        # a completion pairs with the oldest work item open under its key.
        self._open: dict[tuple[str, str], list[_Open]] = {}
        self._number = 0
        self.stats = TapStats()
        self._thread = threading.Thread(target=self._run, name="tap-capture", daemon=True)
        self._thread.start()

    # --- called by the forwarding threads: nothing but a queue put ----------------------------

    def item(self, data: bytes, peer: str) -> None:
        """A ``GetWorkItems`` message is about to be forwarded to ``peer``."""
        self._queue.put(("item", data, peer, time.monotonic()))

    def completion(
        self,
        path: str,
        data: bytes,
        code: grpc.StatusCode,
        details: str,
        peer: str,
        note: str = "",
    ) -> None:
        """A completion or abandon was forwarded and the sidecar answered ``code``.

        ``note`` says why the tap itself abandoned a work item (a held turn abandoned).
        """
        self._queue.put(("done", path, data, code, details, peer, time.monotonic(), note))

    # --- queries ---------------------------------------------------------------------------

    def held(self, token: str, data: bytes, peer: str) -> None:
        """The orchestrator completion ``data`` of ``token`` is held before it is forwarded."""
        self._queue.put(("held", token, data, peer, time.monotonic()))

    def open_item(self, kind: str, token: str, timeout: float = 10.0) -> WorkItemEvent | None:
        """The open work item of ``kind`` with ``token`` (None: not seen or already finished).

        Waits for the messages handed over so far to be processed (a work item is handed
        over before it is forwarded, so before the worker can complete it).
        """
        self.flush(timeout)
        entry = self._oldest(kind, token)
        if entry is None:
            return None
        return self._event(entry, "RECEIVED", Outcome.RECEIVED, entry.peer, time.monotonic())

    def open_items(self) -> int:
        """Work items received and not yet completed or abandoned (after the queue is read)."""
        return sum(len(entries) for entries in list(self._open.values()))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every message handed over so far is processed; False on timeout."""
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Process what is queued, then stop the capture thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    # --- the capture thread ----------------------------------------------------------------

    def _run(self) -> None:
        pending = False  # reported since on_idle was last called
        while True:
            if pending and self._queue.empty():
                pending = False
                self._idle()
            message = self._queue.get()
            if message is None or message[0] == "flush":
                if pending:
                    pending = False
                    self._idle()
                if message is None:
                    return
                message[1].set()  # type: ignore[attr-defined]
                continue
            pending = True
            try:
                if message[0] == "item":
                    self._item(*message[1:])  # type: ignore[arg-type]
                elif message[0] == "held":
                    self._held(*message[1:])  # type: ignore[arg-type]
                else:
                    self._completion(*message[1:])  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - capture must outlive any bad message
                self.stats.undecodable += 1
                self._log(f"could not capture a {message[0]} message: {type(exc).__name__}: {exc}")

    def _idle(self) -> None:
        if self._on_idle is not None:
            try:
                self._on_idle()
            except Exception as exc:  # noqa: BLE001 - capture must outlive its reader
                self._log(f"on_idle failed: {type(exc).__name__}: {exc}")

    def _item(self, data: bytes, peer: str, received: float) -> None:
        item = pb.WorkItem.FromString(data)
        described = _describe_item(item)
        if described is None:
            return
        kind, instance_id, name, request = described
        self._number += 1
        self.stats.received += 1
        entry = _Open(
            self._number, kind, instance_id, name, request, item.completionToken, received, peer
        )
        if self._recorder is not None:
            entry.stem = self._stem(entry)
            self._recorder.request(entry.stem, request)
        self._open.setdefault((kind, entry.token), []).append(entry)
        if self._on_received is not None:
            self._on_received(self._event(entry, "RECEIVED", Outcome.RECEIVED, peer, received))

    def _oldest(self, kind: str, token: str) -> _Open | None:
        entries = self._open.get((kind, token))
        return entries[0] if entries else None

    def _pop(self, kind: str, token: str) -> _Open | None:
        entries = self._open.get((kind, token))
        if not entries:
            return None
        entry = entries.pop(0)
        if not entries:
            del self._open[(kind, token)]
        return entry

    def _held(self, token: str, data: bytes, peer: str, at: float) -> None:
        entry = self._oldest("orchestrator", token)
        if entry is None:
            return
        result = turn_summary(pb.OrchestratorResponse.FromString(data))
        if self._on_event is not None:
            self._on_event(self._event(entry, "HELD", Outcome.HELD, peer, at, result, data))

    def _completion(
        self,
        path: str,
        data: bytes,
        code: grpc.StatusCode,
        details: str,
        peer: str,
        finished: float,
        note: str = "",
    ) -> None:
        kind, token_field, abandon = _COMPLETIONS[path]
        summary: tuple[str, str, str, bool] | None = None
        if abandon or kind == "entity":
            token = string_field(data, token_field)
        else:
            summary = _summary(kind, data)
            token = summary[2]
        entry = self._pop(kind, token)
        if entry is None:
            self.stats.unpaired += 1
            instance = string_field(data, 1) if not abandon else ""
            entry = _Open(0, kind, instance, "?", b"", token, finished, peer)
        if code != grpc.StatusCode.OK:
            self.stats.undelivered += 1
            what = "abandon" if abandon else "completion"
            detail = f"the sidecar refused the {what}: {details}".rstrip(": ")
            result, outcome = f"UNDELIVERED {code.name}", Outcome.UNDELIVERED
        elif abandon:
            self.stats.abandoned += 1
            result, outcome, detail = "ABANDONED", Outcome.ABANDONED, note
        else:
            result, detail, _, failed = summary if summary is not None else ("ok", "", "", False)
            outcome = Outcome.FAILED if failed else Outcome.COMPLETED
            if outcome is Outcome.FAILED:
                self.stats.failed += 1
            else:
                self.stats.completed += 1
        if self._recorder is not None and entry.stem:
            if abandon:
                self._recorder.abandoned(entry.stem, note or f"abandoned by the worker at {peer}")
            else:
                self._recorder.response(entry.stem, data)
        event = self._event(
            entry, result, outcome, peer, finished, detail, b"" if abandon else data
        )
        if self._on_event is not None:
            self._on_event(event)

    def _event(
        self,
        entry: _Open,
        result: str,
        outcome: Outcome,
        peer: str,
        at: float,
        detail: str = "",
        response: bytes = b"",
    ) -> WorkItemEvent:
        return WorkItemEvent(
            time=datetime.now(timezone.utc),
            kind=entry.kind,
            instance_id=entry.instance_id,
            name=entry.name,
            result=result,
            seconds=max(0.0, at - entry.received),
            number=entry.number,
            outcome=outcome,
            detail=detail,
            request=entry.request,
            response=response,
            token=entry.token,
            worker=peer,
        )

    def _stem(self, entry: _Open) -> str:
        assert self._recorder is not None
        if entry.kind == "orchestrator":
            return self._recorder.stem(entry.number, "turn", entry.instance_id, entry.name)
        if entry.kind == "activity":
            return self._recorder.stem(entry.number, "activity", entry.instance_id, entry.name)
        return f"{entry.number:06d}-{_UNSAFE.sub('_', entry.instance_id)[:120] or '_'}-entity"


def _describe_item(item: pb.WorkItem) -> tuple[str, str, str, bytes] | None:
    """``(kind, instance, name, request bytes)`` of a work item; None for a health ping."""
    which = item.WhichOneof("request")
    if which == "orchestratorRequest":
        request = item.orchestratorRequest
        return (
            "orchestrator",
            request.instanceId,
            orchestrator_name(request),
            request.SerializeToString(),
        )
    if which == "activityRequest":
        activity = item.activityRequest
        return (
            "activity",
            activity.orchestrationInstance.instanceId,
            activity.name,
            activity.SerializeToString(),
        )
    if which == "entityRequest":
        entity = item.entityRequest
        return (
            "entity",
            entity.instanceId,
            _entity_name(entity.instanceId),
            entity.SerializeToString(),
        )
    if which == "entityRequestV2":
        entity2 = item.entityRequestV2
        return (
            "entity",
            entity2.instanceId,
            _entity_name(entity2.instanceId),
            entity2.SerializeToString(),
        )
    return None


def _entity_name(instance_id: str) -> str:
    parts = instance_id.split("@")
    return parts[1] if len(parts) >= 3 else instance_id or "?"


def _summary(kind: str, data: bytes) -> tuple[str, str, str, bool]:
    """The result text, its detail, the completion token and whether it reports a failure."""
    if kind == "orchestrator":
        response = pb.OrchestratorResponse.FromString(data)
        detail = ""
        for action in response.actions:
            if action.HasField("completeOrchestration"):
                detail = action.completeOrchestration.failureDetails.errorMessage
        failed = turn_failed(response)
        return turn_summary(response), detail if failed else "", response.completionToken, failed
    activity = pb.ActivityResponse.FromString(data)
    failed = activity.HasField("failureDetails")
    detail = activity.failureDetails.errorMessage if failed else ""
    return activity_summary(activity), detail, activity.completionToken, failed
