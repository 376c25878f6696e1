"""The context Dapr workflow code sees: Dapr's fork of ``OrchestrationContext`` over our turn.

Loaded only in a Dapr process (see :mod:`engine.sdk`). The step machine is the engine's one
(:mod:`engine.replay`); this class gives it Dapr's API and Dapr's rules where they differ from
Microsoft's SDK (``DAPR.md`` §4.2, §6, §7):

- ``call_activity`` / ``call_sub_orchestrator`` take ``app_id=`` and ``propagation=``; every
  task and child action carries a router (empty until an app id is known), every activity a
  ``taskExecutionId`` from Dapr's deterministic GUID;
- every timer has an origin; ``wait_for_external_event(timeout=...)`` schedules a timer for
  the wait, the sentinel 9999-12-31 timer when it waits without end, none for zero;
- a retry is scheduled under a new sequence number with the same execution id, its back-off
  timer says which task or child it retries; a ``NonRetryableError`` is not retried;
- a completion drops every pending action; continue-as-new answers with its one action;
- ``is_patched`` and the patches the turn used.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from engine import actions as act
from engine import sdk
from engine.actions import Action
from engine.context import ReplayContext
from engine.dapr_facts import ActionFacts, Router, TimerOrigin
from engine.failures import orchestration_failure
from engine.history import FailureDetails
from engine.turn import STATUS_CONTINUED_AS_NEW, STATUS_FAILED, PendingTask

if TYPE_CHECKING:
    from engine.turn import Tracker

task: Any = sdk.task_module()
# Dapr's deterministic helpers (new_guid, random, ...); the module imports (as a plain module)
# in a durabletask process too, where nothing uses it.
_Deterministic: Any = (
    sdk.module("deterministic").DeterministicContextMixin if sdk.is_dapr() else object
)

SENTINEL = datetime(9999, 12, 31, 23, 59, 59, 999999)
"""The fire time of the timer behind a wait without end, to the microsecond."""
SENTINEL_NANOS = 999_999_999
"""Its nanoseconds: Dapr's sentinel is exact (``Action.fire_nanos``)."""
_EXTERNAL = "externalEvent"


def is_optional_timer(action: Action | None) -> bool:
    """Whether a pending action is the sentinel timer behind a wait without end."""
    if action is None or action.kind != act.CREATE_TIMER or action.dapr is None:
        return False
    origin = action.dapr.timer_origin
    return origin is not None and origin.kind == _EXTERNAL and action.fire_at == SENTINEL


STATUS_STALLED = 8
"""Dapr's status of a workflow whose version is not available."""


class VersionNotAvailable(Exception):
    """The request pins a version of a versioned workflow the app does not register."""


@dataclass(frozen=True)
class DaprTurnFacts:
    """What a Dapr turn's response says beyond its actions."""

    version_name: str | None
    """The version of a versioned workflow the turn ran (``version.name``)."""
    patches: tuple[str, ...]
    """The patches the code used (``version.patches``)."""
    stalled_id: int | None
    """The id of the ``workflowVersionNotAvailable`` action, when the turn stalled."""


class DaprReplayContext(ReplayContext, _Deterministic):  # type: ignore[misc]
    """Dapr's ``OrchestrationContext`` of one replayed turn."""

    def __init__(self, instance_id: str, **kwargs: Any) -> None:
        super().__init__(instance_id, **kwargs)
        self._timestamp_counter = 0
        self.app_id: str | None = None
        """The workflow's app id (from ``executionStarted``'s router), stamped on its actions."""
        self.history_patches: set[str] = set()
        """Patches ``workflowStarted`` says history already applied."""
        self._applied: dict[str, bool] = {}
        self.encountered_patches: list[str] = []
        """The patches the code asked about and got, in order (the response's version)."""
        self.version_name: str | None = None
        """The version of a versioned workflow this turn runs."""
        self._stalled_id: int | None = None
        self.propagated: Any = None
        """The history a parent propagated (Dapr's ``PropagatedHistory``), else ``None``."""

    # --- Dapr's API ----------------------------------------------------------------------

    def set_custom_status(self, custom_status: Any) -> None:
        if custom_status is not None and not isinstance(custom_status, str):
            warnings.warn(
                "Passing a non-str value to set_custom_status is deprecated",
                DeprecationWarning,
                stacklevel=2,
            )
            custom_status = self.codec.encode(custom_status)
        self._custom_status = custom_status

    def create_timer(self, fire_at: datetime | timedelta) -> Any:
        return self._timer(fire_at, TimerOrigin("createTimer"))

    def call_activity(  # type: ignore[override]
        self,
        activity: Any,
        *,
        input: Any = None,
        retry_policy: Any = None,
        app_id: str | None = None,
        propagation: Any = None,
    ) -> Any:
        seq = self._next_id()
        execution_id = str(self.new_guid())
        name = activity if isinstance(activity, str) else task.get_name(activity)
        action = Action(
            seq,
            act.SCHEDULE_TASK,
            name,
            self.codec.encode(input),
            self.code_location(),
            dapr=self._task_facts(app_id, propagation, execution_id),
        )
        return self._schedule_dapr(action, retry_policy, app_id, propagation, sub=False)

    def call_sub_orchestrator(  # type: ignore[override]
        self,
        orchestrator: Any,
        *,
        input: Any = None,
        instance_id: str | None = None,
        retry_policy: Any = None,
        app_id: str | None = None,
        propagation: Any = None,
    ) -> Any:
        seq = self._next_id()
        name = orchestrator if isinstance(orchestrator, str) else task.get_name(orchestrator)
        action = Action(
            seq,
            act.CREATE_SUB_ORCHESTRATION,
            name=name,
            input=self.codec.encode(input),
            instance_id=instance_id
            if instance_id is not None
            else f"{self._instance_id}:{seq:04x}",
            origin=self.code_location(),
            dapr=self._task_facts(app_id, propagation, ""),
        )
        return self._schedule_dapr(action, retry_policy, app_id, propagation, sub=True)

    def wait_for_external_event(  # type: ignore[override]
        self, name: str, *, timeout: datetime | timedelta | None = None
    ) -> Any:
        waiter = task.CompletableTask()
        key = name.casefold()
        buffered = self._received.get(key)
        if buffered:
            seq, data = buffered.pop(0)
            if not buffered:
                del self._received[key]
            if self._tracker is not None:
                self._tracker.buffered_removed(seq)
            waiter.complete(self.codec.decode(data) if data else None)
            return waiter
        entry = (waiter, None)
        self._waiters.setdefault(key, []).append(entry)
        if self._tracker is not None:
            self._tracker.wait_added(id(waiter), name, self.code_location())

        def unregister() -> None:
            waiting = self._waiters.get(key)
            if waiting is None or entry not in waiting:
                return
            waiting.remove(entry)
            if not waiting:
                del self._waiters[key]
            if self._tracker is not None:
                self._tracker.wait_removed(id(waiter))

        if isinstance(timeout, timedelta) and timeout == timedelta(0):
            unregister()
            waiter.cancel(
                TimeoutError(
                    f"Wait for external event {name!r} canceled immediately due to zero timeout"
                )
            )
            return waiter
        endless = timeout is None or (isinstance(timeout, timedelta) and timeout < timedelta(0))
        assert endless or timeout is not None
        timer = self._timer(SENTINEL if endless else timeout, TimerOrigin(_EXTERNAL, name))  # type: ignore[arg-type]
        return task.ExternalEventWithTimeoutTask(
            waiter,
            timer,
            event_name=name,
            timeout=None if endless else timeout,
            on_timeout=unregister,
        )

    def continue_as_new(self, new_input: Any, *, save_events: bool = False) -> None:  # type: ignore[override]
        if self._complete:
            return
        self._complete = True
        self.completion_status = STATUS_CONTINUED_AS_NEW
        self._drop_pending()
        self._new_input = new_input
        self._save_events = save_events

    def is_patched(self, patch_name: str) -> bool:
        found = self._applied.get(patch_name)
        if found is None:
            found = patch_name in self.history_patches or not self._is_replaying
            self._applied[patch_name] = found
        if found:
            self.encountered_patches.append(patch_name)
        return found

    def get_propagated_history(self) -> Any:
        return self.propagated

    # --- Dapr's rules in the executor's API -----------------------------------------------

    def set_complete(self, result: Any, status: int, *, encoded: bool = False) -> None:
        if self._complete:
            return
        self._complete = True
        self.completion_status = status
        self._drop_pending()
        try:
            text = None if result is None else result if encoded else self.codec.encode(result)
        except (TypeError, ValueError):
            return  # as Dapr's executor: complete, and nothing to say
        self.add_action(
            Action(
                self._next_id(),
                act.COMPLETE_ORCHESTRATION,
                status=status,
                result=text,
                dapr=self._completion_facts(),
            )
        )

    def set_failed(self, ex: BaseException) -> FailureDetails | None:
        if self._complete:
            return None
        self._complete = True
        self.completion_status = STATUS_FAILED
        self._drop_pending()
        details = orchestration_failure(ex)
        self.add_action(
            Action(
                self._next_id(),
                act.COMPLETE_ORCHESTRATION,
                status=STATUS_FAILED,
                failure=details,
                dapr=self._completion_facts(),
            )
        )
        return details

    def final_actions(self) -> list[Action]:
        if self._stalled_id is not None:
            return []
        if self.completion_status != STATUS_CONTINUED_AS_NEW:
            return list(self._actions.values())
        carry: list[tuple[str, str | None]] = []
        if self._save_events:
            for name, items in self._received.items():
                for _, data in items:
                    value = self.codec.decode(data) if data else None
                    carry.append((name, self.codec.encode(value) if value else None))
        result = self.codec.encode(self._new_input) if self._new_input is not None else None
        done = Action(
            self._next_id(),
            act.COMPLETE_ORCHESTRATION,
            status=STATUS_CONTINUED_AS_NEW,
            result=result,
            carryover=carry,
            has_carryover=self._save_events,
            dapr=self._completion_facts(),
        )
        return [done]

    def retry_delay(self, t: Any, failure: FailureDetails) -> timedelta | None:
        if task.is_error_non_retryable(failure.error_type, t._retry_policy):
            return None
        return t.compute_next_delay()  # type: ignore[no-any-return]

    def retry_timer(self, delay: timedelta, retry: Any) -> None:
        retryable, original, _ = retry
        if original.kind == act.SCHEDULE_TASK:
            origin = TimerOrigin("activityRetry", original.dapr.task_execution_id)
        else:
            origin = TimerOrigin("childWorkflowRetry", original.instance_id or "")
        self._timer(delay, origin, retry)

    def reissue(self, retry: Any) -> None:
        """Schedule a retried task again under a new sequence number (same execution id)."""
        retryable, original, expected = retry
        again = Action(
            self._next_id(),
            original.kind,
            name=original.name,
            input=original.input,
            instance_id=original.instance_id,
            origin=original.origin,
            dapr=original.dapr,
        )
        self.add_action(again)
        kind = "activity" if original.kind == act.SCHEDULE_TASK else "child workflow"
        self.add_task(
            again.id, PendingTask(retryable, expected), kind, original.name, original.origin
        )

    def make_room(self, event_id: int, kind: str, sentinel_event: bool) -> None:
        """Before history confirms ``kind`` at ``event_id``: a sentinel timer pending there
        that history does not have (written before Dapr added it) is dropped, and every later
        pending id moves down by one."""
        pending = self._actions.get(event_id)
        if not is_optional_timer(pending) or (kind == act.CREATE_TIMER and sentinel_event):
            return
        self.take_action(event_id)
        self.take_task(event_id)
        for old in sorted(k for k in self._pending_actions if k > event_id):
            moved = self._actions.pop(old)
            moved.id = old - 1
            self._pending_actions[old - 1] = moved
        for old in sorted(k for k in self._pending_tasks if k > event_id):
            self._pending_tasks[old - 1] = self._pending_tasks.pop(old)
        self._sequence -= 1

    def skips_timer(self, event_id: int, sentinel_event: bool) -> bool:
        """A sentinel ``timerCreated`` that meets no pending sentinel timer is skipped."""
        return sentinel_event and not is_optional_timer(self._actions.get(event_id))

    def stall(self) -> None:
        """The version is not available: every action dropped, one ``workflowVersionNotAvailable``
        (made by :func:`engine.dapr_turn.dapr_response`) answers the turn."""
        self._drop_pending()
        self._complete = True
        self.completion_status = STATUS_STALLED
        self._stalled_id = self._next_id()

    def turn_facts(self) -> DaprTurnFacts:
        """What the response says beyond its actions."""
        return DaprTurnFacts(self.version_name, tuple(self.encountered_patches), self._stalled_id)

    # --- helpers --------------------------------------------------------------------------

    @property
    def _actions(self) -> dict[int, Action]:
        # A Dapr turn holds every pending action as an Action (its call_activity makes no
        # engine.turn.HeldActivity).
        return self._pending_actions  # type: ignore[return-value]

    def _drop_pending(self) -> None:
        for action_id in list(self._pending_actions):
            self.take_action(action_id)

    def _router(self, target: str | None = None) -> Router:
        return Router(self.app_id or "", target)

    def _task_facts(self, app_id: str | None, propagation: Any, execution_id: str) -> ActionFacts:
        router = self._router(app_id)
        scope = propagation.value if propagation is not None else None
        return ActionFacts(
            router=router, task_router=router, task_execution_id=execution_id, propagation=scope
        )

    def _completion_facts(self) -> ActionFacts | None:
        return ActionFacts(router=self._router()) if self.app_id else None

    def _schedule_dapr(
        self, action: Action, policy: Any, app_id: str | None, propagation: Any, *, sub: bool
    ) -> Any:
        self.add_action(action)
        if policy is None:
            t = task.CompletableTask()
        else:
            t = task.RetryableTask(
                retry_policy=policy,
                start_time=self._clock,
                is_sub_orch=sub,
                task_name=action.name,
                encoded_input=action.input,
                task_execution_id=action.dapr.task_execution_id,
                instance_id=action.instance_id,
                app_id=app_id,
                propagation=propagation,
            )
            self._originals[id(t)] = (action, None)
        kind = "child workflow" if sub else "activity"
        self.add_task(action.id, PendingTask(t, None), kind, action.name, action.origin)
        return t

    def _timer(self, fire_at: datetime | timedelta, origin: TimerOrigin, retry: Any = None) -> Any:
        seq = self._next_id()
        final = self._clock + fire_at if isinstance(fire_at, timedelta) else fire_at
        if final.utcoffset() is not None:
            final = final.astimezone(timezone.utc).replace(tzinfo=None)
        where = self.code_location()
        action = Action(
            seq,
            act.CREATE_TIMER,
            fire_at=final,
            origin=where,
            dapr=ActionFacts(timer_origin=origin),
        )
        if final == SENTINEL:
            action.fire_nanos = SENTINEL_NANOS
        self.add_action(action)
        timer = task.TimerTask()
        pending = PendingTask(timer, None, None, retry)
        if retry is not None:
            self.add_task(seq, pending, "retry timer", f"retry of '{retry[1].name}'", where)
        elif final == SENTINEL:
            self.add_task(seq, pending, "timer", f"wait for '{origin.key}' (no timeout)", where)
        else:
            self.add_task(seq, pending, "timer", f"timer until {final.isoformat()}Z", where)
        return timer


__all__ = [
    "SENTINEL",
    "STATUS_STALLED",
    "DaprReplayContext",
    "DaprTurnFacts",
    "Tracker",
    "VersionNotAvailable",
    "is_optional_timer",
]
