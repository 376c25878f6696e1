"""The bounded pools that hand work items to user processes.

A :class:`Pool` owns a fixed number of slots (one thread and at most one
:class:`~engine.worker._process.UserProcess` each), started lazily, so a pool is as wide as its
limit but only as many processes exist as the load needed. A child that dies is replaced
before its slot takes more work. Work goes to the most recently idle slot, or to the slot that
last served the same instance when that one is idle, so module-level state in user code
behaves as it would in one process under light load.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from engine.channel import LONGEST_WAIT
from engine.worker._errors import WorkerError
from engine.worker._job import Job
from engine.worker._process import JobResult, UserProcess

_SERVES = {"turn": ("turn",), "activity": ("activity", "entity")}
"""The job kinds each pool serves (entity batches run in the activity pool)."""

_HANGUP = select.POLLHUP | select.POLLERR | select.POLLNVAL


class _Slot:
    def __init__(self, index: int) -> None:
        self.index = index
        self.process: UserProcess | None = None
        self.job: Job | None = None
        """The job this slot runs (assigned under the pool's lock)."""
        self.sent: UserProcess | None = None
        """The process the job was written to (None until it is: its process may be starting)."""
        self.started = 0.0
        self.handling = False
        """A helper thread is ending the job (a timeout or a crash): the collector leaves it."""


class Pool:
    """A bounded set of user processes serving one kind of work item.

    No thread per process: the thread that gives a job to an idle process writes it to the
    process's pipe itself (the stream's reader, or the collector), and one collector thread
    waits on every process's pipe at once, reads each answer, hands the next queued job to
    that process before reporting the answer, and notices the jobs past their timeout.
    Starting a process, and ending a job that timed out or whose process died, happen in
    short-lived helper threads, so the others' answers are never held up.

    Args:
        kind: ``turn`` or ``activity``.
        size: How many jobs run at once (and at most how many processes exist).
        spawn: Makes a new (not yet ready) user process for a slot index.
        timeout: Seconds one job may run.
        on_result: Called with each job and its result (in the collector or a helper thread).
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
        self._ended = False
        self.capabilities: tuple[int, ...] = ()
        """What the APP's worker advertises (known once :meth:`start` returns)."""
        self._caps: dict[str, int] = {}
        self._running: dict[str, int] = {}
        self._busy = 0
        self._rewatch = True
        self._unbounded = False
        """The collector waits with no timeout (nothing ran when it looked): a job sent now
        must wake it, or a job that hangs would never be noticed past its timeout."""
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the first user process (proves that the APP loads) and the collector."""
        first = self._spawn(0)
        first.wait_ready()
        self.capabilities = first.capabilities
        self._apply_limits(first.limits)
        self._slots[0].process = first
        self._thread(self._collect, f"{self.kind}-collector")
        if self.size > 1:
            self._thread(self._warm, f"{self.kind}-warm")

    def _thread(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._cond:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

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
        """Give ``job`` to ``slot`` (under the lock); :meth:`_launch` then sends it."""
        slot.job, slot.sent, slot.started = job, None, time.monotonic()
        self._running[job.kind] = self._running.get(job.kind, 0) + 1
        if len(self._affinity) > 10_000:
            self._affinity.clear()
        self._affinity[job.instance_id] = slot.index

    def _next_pending(self) -> Job | None:
        """The first queued job whose kind is under its cap (removed from the queue)."""
        if not self._caps:
            return self._pending.popleft() if self._pending else None
        for position, job in enumerate(self._pending):
            if self._startable(job):
                del self._pending[position]
                return job
        return None

    def _adopt(self, slot: _Slot, process: UserProcess) -> None:
        """Make ``process`` the slot's, and have the collector watch its pipe."""
        with self._cond:
            slot.process = process
            self._rewatch = True
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_write, b"w")
        except (BlockingIOError, OSError):
            pass  # a full wake pipe wakes the collector all the same

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
                self._adopt(slot, process)
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
                    self._launch(slot, job)

    # --- submitting ---------------------------------------------------------------------

    def submit(self, job: Job, *, should_wait: Callable[[], bool] = lambda: True) -> bool:
        """Queue a job (or hand it to an idle process at once); block while the queue is full
        (back-pressure on the stream).

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
        self._launch(slot, job)
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

    def _launch(self, slot: _Slot, job: Job) -> None:
        """Write the job assigned to ``slot`` to its process (starting one first if need be)."""
        process = slot.process
        if process is None or not process.alive():
            self._thread(self._start_then_send, f"{self.kind}-start-{slot.index}", slot, job)
            return
        self._send(slot, process, job)

    def _start_then_send(self, slot: _Slot, job: Job) -> None:
        old = slot.process
        if old is not None:
            old.kill()
        try:
            process = self._spawn(slot.index)
            process.wait_ready()
        except WorkerError as exc:
            with self._cond:
                slot.process = None
            self._finished(slot, job, JobResult("crashed", output=str(exc)))
            return
        self._adopt(slot, process)
        self._send(slot, process, job)

    def _send(self, slot: _Slot, process: UserProcess, job: Job) -> None:
        with self._cond:
            slot.started = time.monotonic()
            slot.sent = process
            wake, self._unbounded = self._unbounded, False
        if wake:
            self._wake()
        try:
            process.send(job.kind, job.data, job.token)
        except (OSError, ValueError):
            self._end_job(slot, job, process.ended)

    def _end_job(self, slot: _Slot, job: Job, outcome: Callable[[float], JobResult]) -> None:
        """End a job whose process timed out or died (in a helper thread: it may take a
        second to read a stuck process's stack)."""
        with self._cond:
            slot.handling = True
        started = slot.started

        def end() -> None:
            result = outcome(started)
            process = slot.sent
            if process is not None:
                process.kill()
            with self._cond:
                slot.handling = False
                self._rewatch = True
            self._finished(slot, job, result)

        self._thread(end, f"{self.kind}-end-{slot.index}")

    def _finished(self, slot: _Slot, job: Job, result: JobResult) -> None:
        """Hand the slot its next job, then report this one's result."""
        with self._cond:
            if result.outcome not in ("done", "rejected"):
                slot.process = None
            self._running[job.kind] -= 1
            following = None if self._closing else self._next_pending()
            if following is not None:
                self._assign(slot, following)
            else:
                slot.job = slot.sent = None
                self._idle.append(slot)
            self._cond.notify_all()
        if following is not None:
            self._launch(slot, following)
        try:
            self._on_result(job, result)
        except Exception:  # noqa: BLE001 - a reporting failure must not stop the pool
            import traceback

            traceback.print_exc()
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def _collect(self) -> None:
        """Read every process's answers; notice the jobs past their timeout."""
        poller = select.poll()
        poller.register(self._wake_read, select.POLLIN)
        watched: dict[int, tuple[_Slot, UserProcess]] = {}
        while True:
            with self._cond:
                if self._ended:
                    return
                if self._rewatch:
                    self._rewatch = False
                    self._watch(poller, watched)
                wait = self._until_overdue()
                self._unbounded = wait < 0
            for fd, _ in poller.poll(wait):
                if fd == self._wake_read:
                    self._drain_wake()
                elif fd in watched:
                    self._readable(fd, poller, watched)
            self._expire_overdue()

    def _watch(self, poller: select.poll, watched: dict[int, tuple[_Slot, UserProcess]]) -> None:
        """Watch the pipe of every slot's current process (under the lock)."""
        current: dict[int, tuple[_Slot, UserProcess]] = {}
        for slot in self._slots:
            process = slot.process
            if process is not None and not slot.handling and (fd := process.fileno()) >= 0:
                current[fd] = (slot, process)
        for fd in [fd for fd, entry in watched.items() if current.get(fd) != entry]:
            poller.unregister(fd)
            del watched[fd]
        for fd, entry in current.items():
            if fd not in watched:
                poller.register(fd, select.POLLIN | _HANGUP)
                watched[fd] = entry

    def _until_overdue(self) -> int:
        """Milliseconds until the first running job is past its timeout (-1: none runs)."""
        starts = [s.started for s in self._slots if s.sent is not None and not s.handling]
        if not starts:
            return -1
        left = min(starts) + min(self.timeout, LONGEST_WAIT) - time.monotonic()
        return max(0, int(left * 1000.0) + 1)

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _readable(
        self, fd: int, poller: select.poll, watched: dict[int, tuple[_Slot, UserProcess]]
    ) -> None:
        slot, process = watched[fd]
        with self._cond:
            job = slot.job if slot.sent is process and not slot.handling else None
        if job is None:
            # An idle process that ended (the next job starts another), or one a helper is
            # ending (its next process is watched once adopted).
            poller.unregister(fd)
            del watched[fd]
            return
        try:
            result = process.answer(slot.started)
        except (EOFError, OSError, ValueError):
            poller.unregister(fd)
            del watched[fd]
            with self._cond:
                self._rewatch = True
            self._end_job(slot, job, process.ended)
            return
        self._finished(slot, job, result)

    def _expire_overdue(self) -> None:
        now = time.monotonic()
        limit = min(self.timeout, LONGEST_WAIT)
        with self._cond:
            overdue = [
                (slot, slot.job, slot.sent)
                for slot in self._slots
                if slot.sent is not None and not slot.handling and now - slot.started >= limit
            ]
        for slot, job, process in overdue:
            if job is not None and process is not None:
                self._end_job(slot, job, process.expire)

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
        """Let the running jobs report (within ``timeout``), then end the threads and the
        processes."""
        self.close()
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(s.job is not None for s in self._slots) and time.monotonic() < deadline:
                self._cond.wait(0.05)
            self._ended = True
            threads = list(self._threads)
        self._wake()
        for thread in threads:
            # A process a helper is starting would otherwise outlive the pool.
            thread.join(max(0.0, deadline - time.monotonic()))
        for slot in self._slots:
            if slot.process is not None:
                slot.process.close()
                slot.process = None
        for fd in (self._wake_read, self._wake_write):
            try:
                os.close(fd)
            except OSError:
                pass

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
