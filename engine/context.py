"""The orchestration context user code sees, and the state the replay keeps behind it.

:class:`ReplayContext` implements the durabletask SDK's ``OrchestrationContext`` so that
orchestrators written for the SDK run unmodified. It owns the per-turn state (sequence
numbers, pending actions, pending tasks, buffered external events, the completion) and offers
the executor in :mod:`engine.replay` a small internal API for it: the executor never touches
private fields.
"""

from __future__ import annotations

import json
import os
import traceback
import uuid
from collections.abc import Callable, Generator, Hashable
from datetime import datetime, timedelta, timezone
from types import GeneratorType, SimpleNamespace
from typing import Any

from durabletask import task
from durabletask.serialization import DEFAULT_DATA_CONVERTER

from engine import actions as act
from engine.actions import Action, SourceLocation
from engine.history import FailureDetails

try:  # return-type discovery keeps decoded results equal to the SDK's
    from durabletask.internal import type_discovery as _type_discovery
except ImportError:  # pragma: no cover - older SDKs
    _type_discovery = None  # type: ignore[assignment]

DEFAULT_MAXIMUM_TIMER_INTERVAL = timedelta(days=3)
_LEGACY_MARKER = "__durabletask_autoobject__"


def _legacy_object(d: dict[str, Any]) -> Any:
    # Payloads written by old SDK versions mark auto-serialized objects; they decode to namespaces.
    if d.pop(_LEGACY_MARKER, False):
        return SimpleNamespace(**d)
    return d


_DECODER = json.JSONDecoder(object_hook=_legacy_object)
_encode_str = json.encoder.encode_basestring_ascii
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]
_OUTPUT_TYPES: dict[Any, Any] = {}


def decode(data: str, expected: type | None = None) -> Any:
    """Decode a JSON payload exactly as the SDK's default data converter does, faster.

    Without an expected type one shared decoder serves every call; with one (or anything
    unusual) the SDK's converter decides.
    """
    if expected is None and not data.startswith("\ufeff"):
        try:
            value, end = _SCAN(data, 0)
        except StopIteration:
            return _DECODER.decode(data)  # raises the decoder's own error
        if end == len(data):
            return value
        return _DECODER.decode(data)  # surrounding white space, or trailing garbage
    return _CONVERTER.deserialize(data, expected)


def encode(value: Any) -> str | None:
    """Encode a value as JSON exactly as the SDK's default data converter does, faster.

    Values plain JSON can hold go through the standard encoder; the converter's hooks (to_json,
    dataclasses, enums, namespaces) only ever apply to values it cannot, so those go to it.
    """
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    try:
        return json.dumps(value)
    except TypeError:
        return _CONVERTER.serialize(value)


def activity_output_type(fn: Any) -> Any:
    """The activity's declared result type as the SDK discovers it (cached per function)."""
    if _type_discovery is None:
        return None
    try:
        return _OUTPUT_TYPES[fn]
    except KeyError:
        found = _type_discovery.activity_output_type(fn, _CONVERTER)
        _OUTPUT_TYPES[fn] = found
        return found
    except TypeError:  # unhashable callable
        return _type_discovery.activity_output_type(fn, _CONVERTER)


_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875")
_CONVERTER = DEFAULT_DATA_CONVERTER
SCHEDULE_TASK = act.SCHEDULE_TASK
_UNSET_CLOCK = datetime(1000, 1, 1)  # the SDK's clock before the first orchestratorStarted
_NAIVE_EPOCH = datetime(1970, 1, 1)
_AWARE_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LOCATIONS: dict[tuple[Any, int], SourceLocation] = {}

STATUS_RUNNING = 0
STATUS_COMPLETED = 1
STATUS_CONTINUED_AS_NEW = 2
STATUS_FAILED = 3
STATUS_TERMINATED = 5


def _describe(value: Any) -> str:
    if isinstance(value, task.Task):
        if not value.is_complete:
            return f"{type(value).__name__}(pending)"
        if value.is_failed:
            return f"{type(value).__name__}(failed: {value.get_exception()})"
        try:
            return f"{type(value).__name__}(done: {value.get_result()!r})"
        except Exception:  # noqa: BLE001 - a cancelled task raises on get_result
            return f"{type(value).__name__}(cancelled)"
    if type(value).__repr__ is object.__repr__ and hasattr(value, "__dict__"):
        # The default repr says nothing; show the object's fields instead of its address.
        fields = ", ".join(f"{k.lstrip('_')}={v!r}" for k, v in vars(value).items())
        return f"{type(value).__name__}({fields})"
    return repr(value)


def short_repr(value: Any, limit: int = 120) -> str:
    """A one-line description of a local for the frame: tasks by state, plain objects by
    their fields, everything else by ``repr``; cut to ``limit`` characters."""
    try:
        text = _describe(value)
    except Exception as exc:  # noqa: BLE001 - a user __repr__ may raise anything
        text = f"<repr failed: {type(exc).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clock_from_token(token: datetime | tuple[int, int] | None) -> datetime | None:
    """The aware UTC clock a :attr:`ReplayContext.clock_token` stands for."""
    if token is None:
        return None
    if isinstance(token, tuple):
        seconds, nanos = token
        return _AWARE_EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    return token if token.tzinfo is not None else token.replace(tzinfo=timezone.utc)


def qualified_name(t: type) -> str:
    """``module.qualname`` of a type, as failure details name error types."""
    module = getattr(t, "__module__", None)
    qual = getattr(t, "__qualname__", None) or getattr(t, "__name__", None) or str(t)
    return f"{module}.{qual}" if module else qual


def failure_from_exception(ex: BaseException, _seen: set[int] | None = None) -> FailureDetails:
    """Failure details for an exception: type, message, user-code traceback, cause chain."""
    seen = set() if _seen is None else _seen
    seen.add(id(ex))
    inner_ex = ex.__cause__ or ex.__context__
    if len(seen) > 10 or (inner_ex is not None and id(inner_ex) in seen):
        inner_ex = None
    if not isinstance(inner_ex, Exception):
        inner_ex = None
    return FailureDetails(
        error_type=qualified_name(type(ex)),
        message=str(ex),
        stack_trace="".join(traceback.format_list(_user_frames(ex.__traceback__))),
        inner=failure_from_exception(inner_ex, seen) if inner_ex is not None else None,
    )


_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
_SDK_DIR = os.path.dirname(os.path.abspath(task.__file__))


def _is_machinery(filename: str) -> bool:
    return filename.startswith((_ENGINE_DIR, _SDK_DIR))


def _user_frames(tb: Any) -> traceback.StackSummary:
    """The traceback's frames without the engine's and the SDK's own (all of them if none is
    the user's)."""
    frames = traceback.extract_tb(tb)
    user = [f for f in frames if not _is_machinery(f.filename)]
    return traceback.StackSummary.from_list(user or frames)


def failure_location(ex: BaseException) -> SourceLocation | None:
    """The innermost line of user code an exception went through, if any."""
    user = [f for f in traceback.extract_tb(ex.__traceback__) if not _is_machinery(f.filename)]
    if not user:
        return None
    last = user[-1]
    return SourceLocation(last.filename, last.lineno or 0, last.name)


def sdk_failure_details(details: FailureDetails | None) -> Any:
    """The SDK's ``TaskFailureDetails`` for our failure details (for ``TaskFailedError``)."""
    from durabletask.internal import orchestrator_service_pb2 as sdk_pb

    msg = sdk_pb.TaskFailureDetails()
    if details is not None:
        msg.ParseFromString(details.to_proto().SerializeToString())
    return msg


def _failure_from_task_error(ex: task.TaskFailedError) -> FailureDetails:
    def convert(d: Any) -> FailureDetails:
        return FailureDetails(
            error_type=d.error_type,
            message=d.message,
            stack_trace=d.stack_trace,
            inner=convert(d.inner_failure) if d.inner_failure is not None else None,
            properties=dict(d.properties or {}),
        )

    outer = failure_from_exception(ex)
    return FailureDetails(
        error_type=outer.error_type,
        message=outer.message,
        stack_trace=outer.stack_trace,
        inner=convert(ex.details),
    )


class Tracker:
    """Receives every change of the replay's open state (for frame recording).

    The base class ignores everything; :class:`engine.frames.FrameRecorder` records it.
    """

    def action_added(self, action: Action) -> None:
        """An action became pending."""

    def action_removed(self, action_id: int, action: Action) -> None:
        """A pending action was confirmed by history or cancelled."""

    def task_added(self, task_id: int, kind: str, name: str, origin: SourceLocation | None) -> None:
        """A task started waiting under ``task_id``."""

    def task_removed(self, task_id: int) -> None:
        """The task waiting under ``task_id`` was resolved or cancelled."""

    def wait_added(self, key: int, name: str, origin: SourceLocation | None) -> None:
        """Code started waiting for an external event."""

    def wait_removed(self, key: int) -> None:
        """An external-event wait was satisfied or cancelled."""

    def buffered_added(self, seq: Hashable, name: str, data: str | None) -> None:
        """An external event was buffered (no one waiting for it yet)."""

    def buffered_removed(self, seq: Hashable) -> None:
        """A buffered external event was consumed."""


class PendingTask:
    """A task waiting under a sequence number, with what its completion needs."""

    __slots__ = ("task", "expected", "final_fire_at", "retry")

    def __init__(
        self,
        t: task.CompletableTask[Any],
        expected: type | None = None,
        final_fire_at: datetime | None = None,
        retry: tuple[task.RetryableTask[Any], Action, type | None] | None = None,
    ) -> None:
        self.task = t
        self.expected = expected
        self.final_fire_at = final_fire_at
        """For a long (chunked) timer: the user's fire time."""
        self.retry = retry
        """For a retry back-off timer: the retried task, its original action and result type."""


class ReplayContext(task.OrchestrationContext):
    """The ``OrchestrationContext`` of one replayed turn."""

    def __init__(
        self,
        instance_id: str,
        *,
        maximum_timer_interval: timedelta | None = DEFAULT_MAXIMUM_TIMER_INTERVAL,
        tracker: Tracker | None = None,
    ) -> None:
        self._instance_id = instance_id
        self._maximum_timer_interval = maximum_timer_interval
        self._tracker = tracker
        self._is_replaying = True
        self._clock_value: datetime | None = _UNSET_CLOCK
        self._clock_raw: tuple[int, int] = (0, 0)
        self._version: str | None = None
        self._parent_instance_id: str | None = None
        self._sequence = 0
        self._uuid_counter = 0
        self._pending_actions: dict[int, Action] = {}
        self._pending_tasks: dict[int, PendingTask] = {}
        self._received: dict[str, list[tuple[int, str | None]]] = {}
        self._received_seq = 0
        self._waiters: dict[str, list[tuple[task.CancellableTask[Any], type | None]]] = {}
        self._custom_status: str | None = None
        self._complete = False
        self._status: int | None = None
        self._new_input: Any = None
        self._new_version: str | None = None
        self._save_events = False
        self._originals: dict[int, tuple[Action, type | None]] = {}
        self._generator: Generator[Any, Any, Any] | None = None
        self._previous: task.Task[Any] | None = None
        self.resumes = 0
        self.changes = 0
        """How many tasks have been resolved: a local's state may change without code running."""
        """How many times user code has run (start or resume): frames refresh locals on change."""

    # --- the SDK's public API ------------------------------------------------------------

    @property
    def instance_id(self) -> str:
        return self._instance_id

    @property
    def parent_instance_id(self) -> str | None:
        return self._parent_instance_id

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def current_utc_datetime(self) -> datetime:
        return self._clock

    @property
    def is_replaying(self) -> bool:
        return self._is_replaying

    def set_custom_status(self, custom_status: Any) -> None:
        self._custom_status = encode(custom_status) if custom_status is not None else None

    def create_timer(self, fire_at: datetime | timedelta) -> task.TimerTask:
        return self._new_timer(fire_at, None)

    def call_activity(  # type: ignore[override]
        self,
        activity: Callable[..., Any] | str,
        *,
        input: Any = None,
        retry_policy: task.RetryPolicy | None = None,
        tags: dict[str, str] | None = None,
        return_type: type | None = None,
    ) -> task.CompletableTask[Any]:
        self._sequence += 1
        if isinstance(activity, str):
            name = activity
        else:
            name = task.get_name(activity)
            if return_type is None:
                return_type = activity_output_type(activity)
        action = Action(self._sequence, SCHEDULE_TASK, name, encode(input), self.code_location())
        if tags:
            action.tags = dict(tags)
        return self._schedule(action, retry_policy, return_type, is_sub=False)

    def call_sub_orchestrator(  # type: ignore[override]
        self,
        orchestrator: Callable[..., Any] | str,
        *,
        input: Any = None,
        instance_id: str | None = None,
        retry_policy: task.RetryPolicy | None = None,
        version: str | None = None,
        return_type: type | None = None,
    ) -> task.CompletableTask[Any]:
        seq = self._next_id()
        name = orchestrator if isinstance(orchestrator, str) else task.get_name(orchestrator)
        action = Action(
            seq,
            act.CREATE_SUB_ORCHESTRATION,
            name=name,
            input=encode(input),
            instance_id=instance_id
            if instance_id is not None
            else f"{self._instance_id}:{seq:04x}",
            version=version or None,
            origin=self.code_location(),
        )
        return self._schedule(action, retry_policy, return_type, is_sub=True)

    def wait_for_external_event(  # type: ignore[override]
        self, name: str, *, data_type: type | None = None
    ) -> task.CancellableTask[Any]:
        waiter: task.CancellableTask[Any] = task.CancellableTask(expected_type=data_type)
        key = name.casefold()
        buffered = self._received.get(key)
        if buffered:
            seq, data = buffered.pop(0)
            if not buffered:
                del self._received[key]
            if self._tracker is not None:
                self._tracker.buffered_removed(seq)
            waiter.complete(decode(data, data_type) if data else None)
            return waiter
        entry = (waiter, data_type)
        self._waiters.setdefault(key, []).append(entry)
        if self._tracker is not None:
            self._tracker.wait_added(id(waiter), name, self.code_location())

        def cancel() -> None:
            waiting = self._waiters.get(key)
            if waiting is None or entry not in waiting:
                return
            waiting.remove(entry)
            if not waiting:
                del self._waiters[key]
            if self._tracker is not None:
                self._tracker.wait_removed(id(waiter))

        waiter.set_cancel_handler(cancel)
        return waiter

    def send_event(self, instance_id: str, event_name: str, *, data: Any | None = None) -> None:
        if not instance_id or not instance_id.strip():
            raise ValueError("instance_id cannot be empty")
        if instance_id.startswith("@"):
            raise ValueError(
                "Instance IDs starting with '@' are reserved for entities; "
                "use signal_entity() to send an entity operation."
            )
        if not event_name or not event_name.strip():
            raise ValueError("event_name cannot be empty")
        seq = self._next_id()
        self.add_action(
            Action(
                seq,
                act.SEND_EVENT,
                name=event_name,
                instance_id=instance_id,
                input=encode(data),
                origin=self.code_location(),
            )
        )

    def continue_as_new(
        self, new_input: Any, *, save_events: bool = False, new_version: str | None = None
    ) -> None:
        if self._complete:
            return
        self._complete = True
        self._status = STATUS_CONTINUED_AS_NEW
        self._new_input = new_input
        self._new_version = new_version
        self._save_events = save_events

    def new_uuid(self) -> str:
        stamp = self._clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        name = f"{self._instance_id}_{stamp}_{self._uuid_counter}"
        self._uuid_counter += 1
        return str(uuid.uuid5(_UUID_NAMESPACE, name))

    def call_entity(self, *args: Any, **kwargs: Any) -> task.CompletableTask[Any]:
        raise NotImplementedError("durable entities are not supported by the inspector's engine")

    def signal_entity(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("durable entities are not supported by the inspector's engine")

    def lock_entities(self, *args: Any, **kwargs: Any) -> task.CompletableTask[Any]:
        raise NotImplementedError("durable entities are not supported by the inspector's engine")

    def _exit_critical_section(self) -> None:
        return None

    # --- internal API used by the executor ----------------------------------------------

    @property
    def tracker(self) -> Tracker | None:
        """Who is told about changes of open state (``None`` in a headless replay)."""
        return self._tracker

    def set_replaying(self, value: bool) -> None:
        """Switch between the past lane (replaying) and the new lane."""
        self._is_replaying = value

    def set_clock_timestamp(self, seconds: int, nanos: int) -> None:
        """Set the replay clock from a protobuf timestamp (converted only when read)."""
        self._clock_raw = (seconds, nanos)
        self._clock_value = None

    @property
    def _clock(self) -> datetime:
        value = self._clock_value
        if value is None:
            seconds, nanos = self._clock_raw
            value = _NAIVE_EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
            self._clock_value = value
        return value

    def set_origin(self, version: str | None, parent_instance_id: str | None) -> None:
        """Record what ``executionStarted`` said about version and parent."""
        self._version = version
        self._parent_instance_id = parent_instance_id

    @property
    def maximum_timer_interval(self) -> timedelta | None:
        """Longest single timer; longer ones are split into chunks."""
        return self._maximum_timer_interval

    @property
    def clock_token(self) -> datetime | tuple[int, int] | None:
        """The clock as cheaply as it is held: ``None`` (unset), a datetime, or raw seconds and
        nanos (see :func:`clock_from_token`)."""
        value = self._clock_value
        if value is None:
            return self._clock_raw
        return None if value is _UNSET_CLOCK else value

    @property
    def clock_or_none(self) -> datetime | None:
        """The replay clock (naive UTC), ``None`` until the first ``orchestratorStarted``."""
        clock = self._clock
        return None if clock is _UNSET_CLOCK else clock

    @property
    def is_complete(self) -> bool:
        """Whether the orchestration has completed (in any terminal way) in this turn."""
        return self._complete

    @property
    def completion_status(self) -> int | None:
        """The terminal status once complete, else ``None``."""
        return self._status

    @property
    def custom_status(self) -> str | None:
        """The JSON-encoded custom status (``None`` when unset)."""
        return self._custom_status

    @property
    def pending_action_count(self) -> int:
        """How many actions are pending."""
        return len(self._pending_actions)

    def take_action(self, action_id: int) -> Action | None:
        """Remove and return the pending action ``action_id`` (history confirmed it)."""
        action = self._pending_actions.pop(action_id, None)
        if action is not None and self._tracker is not None:
            self._tracker.action_removed(action_id, action)
        return action

    def take_task(self, task_id: int) -> PendingTask | None:
        """Remove and return the task waiting under ``task_id``."""
        t = self._pending_tasks.pop(task_id, None)
        if t is not None:
            self.changes += 1
            if self._tracker is not None:
                self._tracker.task_removed(task_id)
        return t

    def has_task(self, task_id: int) -> bool:
        """Whether a task waits under ``task_id``."""
        return task_id in self._pending_tasks

    def add_action(self, action: Action) -> None:
        """Make an action pending."""
        self._pending_actions[action.id] = action
        if self._tracker is not None:
            self._tracker.action_added(action)

    def add_task(
        self,
        task_id: int,
        pending: PendingTask,
        kind: str,
        name: str,
        origin: SourceLocation | None,
    ) -> None:
        """Register a task waiting under ``task_id``."""
        self._pending_tasks[task_id] = pending
        if self._tracker is not None:
            self._tracker.task_added(task_id, kind, name, origin)

    def pop_waiter(self, name: str) -> tuple[task.CancellableTask[Any], type | None] | None:
        """Remove and return the oldest waiter for an external event (none once complete)."""
        key = name.casefold()
        waiting = self._waiters.get(key)
        if not waiting or self._complete:
            return None
        waiter = waiting.pop(0)
        self.changes += 1
        if not waiting:
            del self._waiters[key]
        if self._tracker is not None:
            self._tracker.wait_removed(id(waiter[0]))
        return waiter

    def buffer_event(self, name: str, data: str | None) -> None:
        """Keep an external event no one waits for yet."""
        seq = self._received_seq
        self._received_seq += 1
        self._received.setdefault(name.casefold(), []).append((seq, data))
        if self._tracker is not None:
            self._tracker.buffered_added(seq, name, data)

    def start(self, fn: Callable[..., Any], input_value: Any) -> None:
        """Call the orchestrator; drive a generator to its first yield."""
        self.resumes += 1
        result = fn(self, input_value)
        if isinstance(result, GeneratorType):
            self._generator = result
            self._previous = next(result)
            self.resume()
        else:
            self.set_complete(result, STATUS_COMPLETED)

    def resume(self) -> None:
        """Send results into the generator while the task it waits on is complete."""
        gen = self._generator
        if gen is None:
            raise TypeError(
                "The orchestrator generator is not initialized! "
                "Was the orchestration history corrupted?"
            )
        while True:
            prev = self._previous
            if prev is None:
                return
            if not prev.is_complete:
                if not isinstance(prev, task.WhenAllTask) or prev.get_tasks():
                    return
                self.resumes += 1
                nxt = gen.send([])
            elif prev.is_failed:
                self.resumes += 1
                nxt = gen.throw(prev.get_exception())
            else:
                self.resumes += 1
                nxt = gen.send(prev.get_result())
            if not isinstance(nxt, task.Task):
                raise TypeError("The orchestrator generator yielded a non-Task object")
            self._previous = nxt

    def set_complete(self, result: Any, status: int, *, encoded: bool = False) -> None:
        """Complete the orchestration (a later completion is ignored)."""
        if self._complete:
            return
        self._complete = True
        self._status = status
        encoded_result: str | None = None
        if result is not None:
            try:
                encoded_result = result if encoded else encode(result)
            except (ValueError, TypeError):
                from durabletask.internal.json_encode_output_exception import (
                    JsonEncodeOutputException,
                )

                self._complete = False
                self._status = None
                self.set_failed(JsonEncodeOutputException(result))
                return
        self.add_action(
            Action(
                self._next_id(), act.COMPLETE_ORCHESTRATION, status=status, result=encoded_result
            )
        )

    def set_failed(self, ex: BaseException) -> None:
        """Fail the orchestration with an exception's failure details."""
        if self._complete:
            return
        self._complete = True
        self._status = STATUS_FAILED
        if isinstance(ex, task.TaskFailedError):
            details = _failure_from_task_error(ex)
        else:
            details = failure_from_exception(ex)
        self.add_action(
            Action(
                self._next_id(), act.COMPLETE_ORCHESTRATION, status=STATUS_FAILED, failure=details
            )
        )

    def final_actions(self) -> list[Action]:
        """The actions the response carries: every pending action, plus continue-as-new."""
        out = list(self._pending_actions.values())
        if self._status == STATUS_CONTINUED_AS_NEW:
            carry: list[tuple[str, str | None]] = []
            if self._save_events:
                everything = sorted(
                    (seq, name, data)
                    for name, items in self._received.items()
                    for seq, data in items
                )
                carry = [(name, data) for _, name, data in everything]
            out.append(
                Action(
                    self._next_id(),
                    act.COMPLETE_ORCHESTRATION,
                    status=STATUS_CONTINUED_AS_NEW,
                    result=encode(self._new_input),
                    new_version=self._new_version,
                    carryover=carry,
                    has_carryover=self._save_events,
                )
            )
        return out

    def code_location(self) -> SourceLocation | None:
        """Where the orchestrator generator is (running or suspended), innermost first."""
        gen: Any = self._generator
        if gen is None:
            return None
        inner = gen.gi_yieldfrom
        while inner is not None and getattr(inner, "gi_frame", None) is not None:
            gen = inner
            inner = getattr(gen, "gi_yieldfrom", None)
        frame = gen.gi_frame
        if frame is None:
            return None
        key = (frame.f_code, frame.f_lineno)
        found = _LOCATIONS.get(key)
        if found is None:
            code = frame.f_code
            found = _LOCATIONS[key] = SourceLocation(code.co_filename, frame.f_lineno, code.co_name)
        return found

    def code_locals(self) -> tuple[tuple[str, str], ...]:
        """A short repr of the orchestrator's locals where it is suspended."""
        gen: Any = self._generator
        if gen is None:
            return ()
        while getattr(gen, "gi_yieldfrom", None) is not None:
            if getattr(gen.gi_yieldfrom, "gi_frame", None) is None:
                break
            gen = gen.gi_yieldfrom
        frame = gen.gi_frame
        if frame is None:
            return ()
        out = []
        for name, value in list(frame.f_locals.items())[:24]:
            if value is self:
                continue
            out.append((name, short_repr(value)))
        return tuple(out)

    def new_chunk_timer(self, pending: PendingTask, fire_at: datetime) -> None:
        """Issue the next chunk of a long timer under a new id."""
        seq = self._next_id()
        self.add_action(Action(seq, act.CREATE_TIMER, fire_at=fire_at))
        self.add_task(seq, pending, "timer", "timer (next chunk)", None)
        assert isinstance(pending.task, task.TimerTask)
        self._cancel_with(pending.task, seq)

    def reissue(self, retry: tuple[task.RetryableTask[Any], Action, type | None]) -> None:
        """Schedule a retried task again under its original id (its input kept as text)."""
        retryable, original, expected = retry
        is_activity = original.kind == act.SCHEDULE_TASK
        again = Action(
            original.id,
            original.kind,
            name=original.name,
            input=original.input if original.input is not None else "",
            instance_id=None if is_activity else original.instance_id,
            tags=original.tags if is_activity else None,
            origin=original.origin,
        )
        self.add_action(again)
        kind = "activity" if is_activity else "sub-orchestration"
        self.add_task(
            original.id, PendingTask(retryable, expected), kind, original.name, original.origin
        )

    def retry_timer(
        self, delay: timedelta, retry: tuple[task.RetryableTask[Any], Action, type | None]
    ) -> None:
        """Create the back-off timer of a retry."""
        self._new_timer(delay, retry)

    # --- helpers --------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._sequence += 1
        return self._sequence

    def _schedule(
        self,
        action: Action,
        retry_policy: task.RetryPolicy | None,
        return_type: type | None,
        *,
        is_sub: bool,
    ) -> task.CompletableTask[Any]:
        t: task.CompletableTask[Any]
        if retry_policy is None and self._tracker is None:
            # The common headless path, kept short: it runs once per scheduled task.
            seq = action.id
            self._pending_actions[seq] = action
            t = task.CompletableTask(expected_type=return_type)
            self._pending_tasks[seq] = PendingTask(t, return_type)
            return t
        self.add_action(action)
        if retry_policy is None:
            t = task.CompletableTask(expected_type=return_type)
        else:
            t = task.RetryableTask(
                retry_policy=retry_policy,
                action=action,  # type: ignore[arg-type]
                start_time=self._clock,
                is_sub_orch=is_sub,
                expected_type=return_type,
            )
            self._originals[id(t)] = (action, return_type)
        kind = "sub-orchestration" if is_sub else "activity"
        self.add_task(action.id, PendingTask(t, return_type), kind, action.name, action.origin)
        return t

    def retry_info(
        self, t: task.RetryableTask[Any]
    ) -> tuple[task.RetryableTask[Any], Action, type | None]:
        """The retried task with its original action and result type."""
        action, expected = self._originals[id(t)]
        return t, action, expected

    def _cancel_with(self, timer: task.TimerTask, seq: int) -> None:
        def cancel() -> None:
            self.take_action(seq)
            self.take_task(seq)

        timer.set_cancel_handler(cancel)

    def _new_timer(
        self,
        fire_at: datetime | timedelta,
        retry: tuple[task.RetryableTask[Any], Action, type | None] | None,
    ) -> task.TimerTask:
        seq = self._next_id()
        final = self._clock + fire_at if isinstance(fire_at, timedelta) else fire_at
        if final.utcoffset() is not None:
            final = final.astimezone(timezone.utc).replace(tzinfo=None)
        limit = self._maximum_timer_interval
        if limit is not None and limit > timedelta(0) and self._clock + limit < final:
            timer = task.TimerTask(final, limit)
            first = self._clock + limit
        else:
            timer = task.TimerTask()
            first = final
        origin = self.code_location()
        self.add_action(Action(seq, act.CREATE_TIMER, fire_at=first, origin=origin))
        self._cancel_with(timer, seq)
        pending = PendingTask(timer, None, final if first != final else None, retry)
        if retry is not None:
            self.add_task(seq, pending, "retry timer", f"retry of '{retry[1].name}'", origin)
        else:
            self.add_task(seq, pending, "timer", f"timer until {final.isoformat()}Z", origin)
        return timer
