"""Replay of the events that confirm an action the code asked for, as the SDK's executor does.

:class:`MatchEventHandlers` is mixed into :class:`engine.replay.CodeReplayer`: one
``_apply_<event>`` per scheduled activity, created sub-orchestration or timer and sent event,
each matched with the pending action at its id (kind, then name or target: a mismatch is a
non-determinism, noted with where the code asked), and the loop that matches a fan-out's
activities in one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durabletask import task

    from engine.context import ReplayContext
else:
    from engine.sdk import task

from engine import actions as act
from engine import history as h
from engine.actions import Action, SourceLocation
from engine.entity_replay import LEGACY_KINDS
from engine.outcome import (
    NonDeterminism,
    no_action_message,
    wrong_name_message,
    wrong_target_message,
    wrong_type_message,
)
from engine.turn import HeldActivity, held_action

_SENTINEL_SECONDS = 253_402_300_799  # Dapr's timer behind a wait without end: 9999-12-31
_SENTINEL_NANOS = 999_999_999
_SCHEDULE_TASK = act.SCHEDULE_TASK


def _recorded(ev: h.HistoryEvent) -> str:
    name = ev.name
    return f"{ev.kind} #{ev.event_id}" + (f" '{name}'" if name else "")


class MatchEventHandlers:
    """The matching half of the code replayer's dispatch table."""

    if TYPE_CHECKING:
        ctx: ReplayContext
        note: str
        dapr: bool
        request: h.OrchestrationRequest
        nondeterminism: NonDeterminism | None
        _index: int
        _make_room: Callable[[int, str, bool], None] | None
        _take_action: Callable[[int, None], Action | HeldActivity | None]

        def _legacy_entity_sent(self, msg: Any, ev: Any, action: Action) -> None: ...

    def _match_scheduled(
        self, events: Any, kind_of: Callable[[Any, str], Any], take: Callable[[int, None], Any]
    ) -> tuple[int, Any] | None:
        """Match the next ``taskScheduled`` events of ``events`` (the lane's pairs) with the
        pending actions, as the lane does one (``take``: the pending actions' ``pop``); return
        the first pair of another kind, ``None`` when the events ran out."""
        scheduled = self._scheduled
        for index, msg in events:
            if kind_of(msg, "eventType") != "taskScheduled":
                return index, msg
            ev = msg.taskScheduled
            action = take(msg.eventId, None)
            if type(action) is not tuple or action[0] != ev.name:
                self._index = index
                scheduled(msg, ev, action)
        return None

    def _match(
        self,
        msg: Any,
        kind: str,
        method: str,
        sentinel: bool = False,
        also: frozenset[str] = frozenset(),
    ) -> Action:
        event_id = msg.eventId
        if self._make_room is not None:
            self._make_room(event_id, kind, sentinel)
        action = self.ctx.take_action(event_id)
        if action is None:
            self._diverged("nothing with this sequence number", None)
            raise task.NonDeterminismError(no_action_message(event_id, method))
        if action.kind != kind and action.kind not in also:
            self._wrong_type(msg, method, action)
        return action

    def _wrong_type(self, msg: Any, method: str, action: Action) -> None:
        self._diverged(action.describe(), action.origin)
        raise task.NonDeterminismError(wrong_type_message(msg.eventId, method, action))

    def _diverged(self, asked: str, where: SourceLocation | None) -> None:
        location = where if where is not None else self.ctx.code_location()
        recorded = _recorded(self.request.event(self._index))
        self.nondeterminism = NonDeterminism(self._index, recorded, asked, location, "")

    def _check_name(self, msg: Any, action: Action, method: str, expected: str) -> None:
        if action.name != expected:
            self._diverged(action.describe(), action.origin)
            raise task.NonDeterminismError(
                wrong_name_message(msg.eventId, method, expected, action.name)
            )

    def _apply_task_scheduled(self, msg: Any, ev: Any) -> None:
        event_id = msg.eventId
        if self._make_room is not None:
            self._make_room(event_id, _SCHEDULE_TASK, False)
        self._scheduled(msg, ev, self._take_action(event_id, None))

    def _scheduled(self, msg: Any, ev: Any, action: Action | HeldActivity | None) -> None:
        """Match ``taskScheduled`` (the message ``msg``, its member ``ev``) with the pending
        action taken at its id (:meth:`_match`, inlined: this runs once per activity)."""
        if isinstance(action, tuple):  # a plain activity's, as the turn holds it
            if action[0] == ev.name:
                self.note = "matched call_activity"
                return
            action = held_action(msg.eventId, action)
        elif action is None:
            self._diverged("nothing with this sequence number", None)
            raise task.NonDeterminismError(no_action_message(msg.eventId, "call_activity"))
        elif action.kind != _SCHEDULE_TASK:
            self._wrong_type(msg, "call_activity", action)
        # one call site for a held action and a made one: the failure's trace names this line,
        # and the headless replay's response must equal the session's byte for byte
        if action.name != ev.name:
            self._check_name(msg, action, "call_activity", ev.name)
        self.note = "matched call_activity"

    def _apply_sub_orchestration_created(self, msg: Any, ev: Any) -> None:
        action = self._match(msg, act.CREATE_SUB_ORCHESTRATION, "call_sub_orchestrator")
        self._check_name(msg, action, "call_sub_orchestrator", ev.name)
        self.note = "matched call_sub_orchestrator"

    def _apply_timer_created(self, msg: Any, ev: Any) -> None:
        fire = ev.fireAt  # Dapr's sentinel is exact, to the nanosecond
        sentinel = self.dapr and fire.seconds == _SENTINEL_SECONDS and fire.nanos == _SENTINEL_NANOS
        if self.ctx.skips_timer(msg.eventId, sentinel):
            self.note = "skipped: an optional timer the code no longer schedules here"
            return
        self._match(msg, act.CREATE_TIMER, "create_timer", sentinel)
        self.note = "matched create_timer"

    def _apply_event_sent(self, msg: Any, ev: Any) -> None:
        action = self._match(msg, act.SEND_EVENT, "send_event", also=LEGACY_KINDS)
        if action.kind in LEGACY_KINDS:
            self._legacy_entity_sent(msg, ev, action)
            return
        if action.instance_id != ev.instanceId:
            self._diverged(action.describe(), action.origin)
            raise task.NonDeterminismError(
                wrong_target_message(
                    msg.eventId, "send_event", ev.instanceId, action.instance_id or ""
                )
            )
        if action.name.casefold() != ev.name.casefold():
            self._diverged(action.describe(), action.origin)
            raise task.NonDeterminismError(
                wrong_name_message(msg.eventId, "send_event", ev.name, action.name)
            )
        self.note = "matched send_event"
