"""Replay of the events that deliver a result to a waiting task, as the SDK's executor does.

:class:`ResultEventHandlers` is mixed into :class:`engine.replay.CodeReplayer`: one
``_apply_<event>`` per completion, failure, fired timer or raised event. A completion finds
its task by id (an unknown id is ignored), decodes the result with the app's codec, completes
the task and resumes the code; a failure may retry the task instead; a long timer's chunk
issues the next chunk.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durabletask import task

    from engine.context import ReplayContext
else:
    from engine.sdk import task

from engine import history as h
from engine.context import sdk_failure_details

_NAIVE_EPOCH = datetime(1970, 1, 1)


def _naive(ts: Any) -> datetime:
    return _NAIVE_EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


class ResultEventHandlers:
    """The results half of the code replayer's dispatch table."""

    if TYPE_CHECKING:
        ctx: ReplayContext
        note: str

        def _legacy_entity_reply(self, msg: Any, ev: Any) -> bool: ...

    def _complete_task(self, task_id: int, result: str | None, what: str) -> None:
        pending = self.ctx.take_task(task_id)
        if pending is None:
            self.note = "ignored: no task waits for this id"
            return
        value = self.ctx.codec.decode(result, pending.expected) if result else None
        pending.task.complete(value)
        self.note = what
        self.ctx.resume()

    def _fail_task(self, task_id: int, details: Any, sub: bool) -> None:
        pending = self.ctx.take_task(task_id)
        if pending is None:
            self.note = "ignored: no task waits for this id"
            return
        failure = h.FailureDetails.from_proto(details)
        t = pending.task
        if isinstance(t, task.RetryableTask):
            delay = self.ctx.retry_delay(t, failure)
            if delay is not None:
                t.increment_attempt_count()
                self.ctx.retry_timer(delay, self.ctx.retry_info(t))
                self.note = f"task #{task_id} failed: retry in {delay}"
                return
        if sub:
            text = f"Sub-orchestration task #{task_id} failed: {failure.message}"
        else:
            text = f"{self.ctx.instance_id}: Activity task #{task_id} failed: {failure.message}"
        t.fail(text, sdk_failure_details(failure))
        self.note = f"task #{task_id} failed"
        self.ctx.resume()

    def _apply_task_completed(self, msg: Any, ev: Any) -> None:
        if self.ctx.complete_activity(ev) is not False:
            self.note = "activity completed"
        else:
            self.note = "ignored: no task waits for this id"

    def _apply_task_failed(self, msg: Any, ev: Any) -> None:
        self._fail_task(ev.taskScheduledId, ev.failureDetails, sub=False)

    def _apply_sub_orchestration_completed(self, msg: Any, ev: Any) -> None:
        result = ev.result.value if ev.HasField("result") else None
        self._complete_task(ev.taskScheduledId, result, "sub-orchestration completed")

    def _apply_sub_orchestration_failed(self, msg: Any, ev: Any) -> None:
        self._fail_task(ev.taskScheduledId, ev.failureDetails, sub=True)

    def _apply_timer_fired(self, msg: Any, ev: Any) -> None:
        pending = self.ctx.take_task(ev.timerId)
        if pending is None or not isinstance(pending.task, task.TimerTask):
            self.note = "ignored: no timer waits for this id"
            return
        if self.ctx.is_complete:
            self.note = "ignored: the orchestration already completed"
            return
        fired_at = _naive(ev.fireAt)
        final = pending.final_fire_at
        if final is not None and fired_at < final:
            limit = self.ctx.maximum_timer_interval or timedelta(0)  # chunked implies a limit
            next_at = fired_at + limit if fired_at + limit < final else final
            self.ctx.new_chunk_timer(pending, next_at)
            self.note = f"timer chunk fired; next chunk at {next_at.isoformat()}Z"
            return
        pending.task.complete(None)
        if pending.retry is not None:
            self.ctx.reissue(pending.retry)
            self.note = "retry timer fired: task scheduled again"
            return
        self.note = "timer fired"
        self.ctx.resume()

    def _apply_event_raised(self, msg: Any, ev: Any) -> None:
        name = ev.name
        if self._legacy_entity_reply(msg, ev):
            return
        data = ev.input.value if ev.HasField("input") and ev.input.value else None
        waiter = self.ctx.pop_waiter(name)
        if waiter is None:
            self.ctx.buffer_event(name, data)
            self.note = f"event '{name}' buffered (no one waits for it)"
            return
        t, expected = waiter
        t.complete(self.ctx.codec.decode(data, expected) if data else None)
        self.note = f"event '{name}' delivered"
        self.ctx.resume()
