"""The bounded pools that hand work items to user processes.

A :class:`Pool` owns a fixed number of slots (one thread and at most one
:class:`~engine.worker._process.UserProcess` each), started lazily, so a pool is as wide as its
limit but only as many processes exist as the load needed. A child that dies is replaced
before its slot takes more work. Work goes to the most recently idle slot, or to the slot that
last served the same instance when that one is idle, so module-level state in user code
behaves as it would in one process under light load.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.history import FailureDetails
from engine.worker._entities import failed_batch_result
from engine.worker._errors import WorkerError
from engine.worker._events import Outcome, WorkItemEvent
from engine.worker._messages import failed_activity_response, failed_turn_response
from engine.worker._options import WorkerOptions
from engine.worker._process import JobResult, UserProcess


@dataclass
class Job:
    """One work item on its way to a user process."""

    kind: str
    """``turn`` or ``activity``."""
    data: bytes
    """The serialized ``OrchestratorRequest`` or ``ActivityRequest``."""
    token: str
    """The work item's completion token."""
    instance_id: str
    """The orchestration instance."""
    name: str
    """The orchestrator or activity name."""
    request: Any = None
    """The request message (activities: to build failure answers)."""
    number: int = 0
    """Sequence number of the work item in this worker (for logs and capture files)."""
    received: float = field(default_factory=time.monotonic)
    """When it arrived (monotonic seconds)."""

    def event(
        self, outcome: Outcome, result: str, detail: str = "", response: bytes = b""
    ) -> WorkItemEvent:
        """What became of this work item, as the worker reports it."""
        return WorkItemEvent(
            time=datetime.now(timezone.utc),
            kind="orchestrator" if self.kind == "turn" else self.kind,
            instance_id=self.instance_id,
            name=self.name,
            result=result,
            seconds=time.monotonic() - self.received,
            number=self.number,
            outcome=outcome,
            detail=detail,
            request=self.data,
            response=response,
            token=self.token,
        )

    def failure_response(self, failure: FailureDetails) -> bytes:
        """The serialized answer that fails this turn (its orchestration) or this activity."""
        if self.kind == "entity":
            return failed_batch_result(self.request, failure).SerializeToString()
        if self.kind == "turn":
            turn = failed_turn_response(self.instance_id, self.token, failure)
            return turn.SerializeToString()
        return failed_activity_response(self.request, self.token, failure).SerializeToString()


_SERVES = {"turn": ("turn",), "activity": ("activity", "entity")}
"""The job kinds each pool serves (entity batches run in the activity pool)."""


class _Slot:
    def __init__(self, index: int) -> None:
        self.index = index
        self.inbox: deque[Job | None] = deque()
        self.wake = threading.Event()
        self.process: UserProcess | None = None
        self.job: Job | None = None
        self.thread: threading.Thread | None = None


class Pool:
    """A bounded set of user processes serving one kind of work item.

    Args:
        kind: ``turn`` or ``activity``.
        size: How many jobs run at once (and at most how many processes exist).
        spawn: Makes a new (not yet ready) user process for a slot index.
        timeout: Seconds one job may run.
        on_result: Called in the slot's thread with each job and its result.
    """

    def __init__(
        self,
        kind: str,
        size: int,
        spawn: Callable[[int], UserProcess],
        timeout: float,
        on_result: Callable[[Job, JobResult], None],
    ) -> None:
        self.kind = kind
        self.size = size
        self.timeout = timeout
        self._spawn = spawn
        self._on_result = on_result
        self._cond = threading.Condition()
        self._slots = [_Slot(i) for i in range(size)]
        self._idle: list[_Slot] = list(reversed(self._slots))
        self._pending: deque[Job] = deque()
        self._affinity: dict[str, int] = {}
        self._closing = False
        self.capabilities: tuple[int, ...] = ()
        """What the APP's worker advertises (known once :meth:`start` returns)."""
        self._caps: dict[str, int] = {}
        self._running: dict[str, int] = {}
        self._busy = 0
        self._warm_thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the slot threads and the first user process (proves that the APP loads)."""
        first = self._spawn(0)
        first.wait_ready()
        self.capabilities = first.capabilities
        self._apply_limits(first.limits)
        self._slots[0].process = first
        for slot in self._slots:
            slot.thread = threading.Thread(
                target=self._serve, args=(slot,), name=f"{self.kind}-slot-{slot.index}", daemon=True
            )
            slot.thread.start()
        if self.size > 1:
            self._warm_thread = threading.Thread(
                target=self._warm, name=f"{self.kind}-warm", daemon=True
            )
            self._warm_thread.start()

    def _apply_limits(self, limits: dict[str, int]) -> None:
        """Run no more jobs of a kind at once than the APP's worker would (its
        ``ConcurrencyOptions``): the pool narrows to the largest limit of the kinds it serves,
        and a kind with a smaller limit is capped within it."""
        caps = {kind: n for kind, n in limits.items() if kind in _SERVES[self.kind]}
        if not caps:
            return
        self.size = max(1, min(self.size, max(caps.values())))
        del self._slots[self.size :]
        self._idle = list(reversed(self._slots))
        self._caps = {kind: n for kind, n in caps.items() if n < self.size}

    def limit(self, kind: str) -> int:
        """How many jobs of ``kind`` this pool runs at once."""
        return min(self.size, self._caps.get(kind, self.size))

    def _startable(self, job: Job) -> bool:
        cap = self._caps.get(job.kind)
        return cap is None or self._running.get(job.kind, 0) < cap

    def _assign(self, slot: _Slot, job: Job) -> None:
        slot.job = job
        self._running[job.kind] = self._running.get(job.kind, 0) + 1

    def _next_pending(self) -> Job | None:
        """The first queued job whose kind is under its cap (removed from the queue)."""
        if not self._caps:
            return self._pending.popleft() if self._pending else None
        for position, job in enumerate(self._pending):
            if self._startable(job):
                del self._pending[position]
                return job
        return None

    def _warm(self) -> None:
        """Start the other slots' processes in the background, while their slots are idle."""
        for slot in self._slots[1:]:
            with self._cond:
                if self._closing or slot not in self._idle or slot.process is not None:
                    continue
                self._idle.remove(slot)
            try:
                process = self._spawn(slot.index)
                process.wait_ready()
                slot.process = process
            except WorkerError:
                pass
            finally:
                with self._cond:
                    job = None if self._closing else self._next_pending()
                    if job is not None:
                        self._assign(slot, job)
                    else:
                        self._idle.insert(0, slot)
                    self._cond.notify_all()
                if job is not None:
                    slot.inbox.append(job)
                    slot.wake.set()

    # --- submitting ---------------------------------------------------------------------

    def submit(self, job: Job, *, should_wait: Callable[[], bool] = lambda: True) -> bool:
        """Queue a job; block while the queue is full (back-pressure on the stream).

        Returns:
            False when the pool is closing (the job was not taken).
        """
        with self._cond:
            while len(self._pending) >= self.size and not self._closing and should_wait():
                self._cond.wait(0.25)
            if self._closing:
                return False
            slot = self._choose(job.instance_id) if self._startable(job) else None
            self._busy += 1
            if slot is None:
                self._pending.append(job)
                return True
            self._assign(slot, job)
        slot.inbox.append(job)
        slot.wake.set()
        return True

    def _choose(self, key: str) -> _Slot | None:
        if not self._idle:
            return None
        preferred = self._affinity.get(key)
        if preferred is not None:
            for position, slot in enumerate(self._idle):
                if slot.index == preferred:
                    return self._idle.pop(position)
        return self._idle.pop()

    # --- serving ------------------------------------------------------------------------

    def _serve(self, slot: _Slot) -> None:
        while True:
            slot.wake.wait()
            slot.wake.clear()
            while slot.inbox:
                job = slot.inbox.popleft()
                if job is None:
                    return
                while job is not None:
                    self._run(slot, job)
                    job = self._next(slot)

    def _next(self, slot: _Slot) -> Job | None:
        with self._cond:
            self._busy -= 1
            done = slot.job
            if done is not None:
                self._running[done.kind] -= 1
            job = None if self._closing else self._next_pending()
            if job is not None:
                self._assign(slot, job)
                self._cond.notify_all()
                return job
            slot.job = None
            self._idle.append(slot)
            self._cond.notify_all()
            return None

    def _run(self, slot: _Slot, job: Job) -> None:
        process = slot.process
        if process is None or not process.alive():
            if process is not None:
                process.kill()
            try:
                process = self._spawn(slot.index)
                process.wait_ready()
            except WorkerError as exc:
                slot.process = None
                self._on_result(job, JobResult("crashed", output=str(exc)))
                return
            slot.process = process
        with self._cond:
            if len(self._affinity) > 10_000:
                self._affinity.clear()
            self._affinity[job.instance_id] = slot.index
        result = process.run(job.kind, job.data, job.token, self.timeout)
        if result.outcome != "done":
            slot.process = None
        try:
            self._on_result(job, result)
        except Exception:  # noqa: BLE001 - a reporting failure must not kill the slot
            import traceback

            traceback.print_exc()

    # --- stopping -----------------------------------------------------------------------

    def idle(self) -> bool:
        """Whether nothing is queued or running."""
        with self._cond:
            return self._busy == 0

    def take_pending(self) -> list[Job]:
        """Remove and return every queued job that has not started."""
        with self._cond:
            jobs = list(self._pending)
            self._busy -= len(jobs)
            self._pending.clear()
            self._cond.notify_all()
            return jobs

    def close(self) -> None:
        """Stop taking jobs (queued ones stay for :meth:`take_pending`)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def kill_running(self) -> None:
        """Kill the processes running jobs; those jobs report ``stopped``."""
        for slot in self._slots:
            process = slot.process
            if slot.job is not None and process is not None:
                process.stop_for_shutdown()

    def shutdown(self, timeout: float = 5.0) -> None:
        """End the slot threads and their processes."""
        self.close()
        for slot in self._slots:
            slot.inbox.append(None)
            slot.wake.set()
        deadline = time.monotonic() + timeout
        warm = self._warm_thread
        if warm is not None:
            # A process it is starting would otherwise outlive the pool.
            warm.join(max(0.0, deadline - time.monotonic()))
        for slot in self._slots:
            if slot.thread is not None:
                slot.thread.join(max(0.0, deadline - time.monotonic()))
            if slot.process is not None:
                slot.process.close()
                slot.process = None

    def entities(self) -> tuple[str, ...]:
        """The APP's entity names, as the first user process reported them."""
        first = self._slots[0].process
        return () if first is None else first.entities

    def processes(self) -> list[int]:
        """Process ids of the live user processes."""
        return [
            pid
            for slot in self._slots
            if slot.process is not None and (pid := slot.process.pid) is not None
        ]


def start_pools(
    options: WorkerOptions,
    report_dir: str,
    on_result: Callable[[Job, JobResult], None],
    echo: Callable[[str, str], None],
) -> tuple[Pool, Pool]:
    """Start the turn pool and the activity pool at once; each proves the APP loads.

    Args:
        options: The APP, the limits and the timeouts.
        report_dir: Folder for the user processes' stack-report files.
        on_result: Called in a slot's thread with each job and its result.
        echo: Called with ``(label, line)`` for each line a user process prints.

    Raises:
        WorkerError: the APP does not load in a user process (both pools are shut down).
    """
    interval = options.maximum_timer_interval
    seconds = (
        interval if isinstance(interval, str) or interval is None else interval.total_seconds()
    )

    def spawner(kind: str) -> Callable[[int], UserProcess]:
        def spawn(index: int) -> UserProcess:
            label = f"{kind}-{index + 1}"
            return UserProcess(
                options.app, label, report_dir, seconds, options.start_method, echo=echo
            )

        return spawn

    pools = (
        Pool("turn", options.max_orchestrations, spawner("turn"), options.turn_timeout, on_result),
        Pool(
            "activity",
            options.max_activities,
            spawner("activity"),
            options.activity_timeout,
            on_result,
        ),
    )
    errors: list[BaseException] = []

    def boot(pool: Pool) -> None:
        try:
            pool.start()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    booting = [threading.Thread(target=boot, args=(pool,)) for pool in pools]
    for thread in booting:
        thread.start()
    for thread in booting:
        thread.join()
    if errors:
        for pool in pools:
            pool.shutdown(1.0)
        raise errors[0]
    return pools
