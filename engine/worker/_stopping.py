"""Stopping the worker: nothing received is lost (the stop sequence of :class:`Worker`).

The sequence: park the turns not yet started and let the running work finish; wait until the
sidecar owes nothing more (:mod:`._expected`) and the stream has been quiet; finish every
activity received; close the stream; kill what still runs and give back what is left. The
:class:`StopSequence` mixin holds it; :class:`engine.worker._worker.Worker` provides the state
and the answers it uses.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable

from engine.worker._entities import HoldBack
from engine.worker._events import WorkerStats
from engine.worker._expected import Expected
from engine.worker._job import Job
from engine.worker._lifecycle import LifeCycle, State
from engine.worker._options import WorkerOptions
from engine.worker._policy import Complete
from engine.worker._pool import Pool
from engine.worker._sender import CLOSING_BUDGET, Sender
from engine.worker._stream import WorkStream

QUIET_SECONDS = 0.5
"""On stop: how long the stream must also stay silent before it is closed."""


class StopSequence:
    """The graceful stop of a worker (mixed into :class:`~engine.worker._worker.Worker`)."""

    options: WorkerOptions
    stats: WorkerStats
    _life: LifeCycle
    _lock: threading.Lock
    _stream: WorkStream | None
    _sender: Sender | None
    _turns: Pool | None
    _activities: Pool | None
    _parked: list[Job]
    _held: dict[str, tuple[Job, Complete]]
    _expected: Expected
    _holdback: HoldBack
    _tmp: str | None
    _log: Callable[[str], None]

    def _pools(self) -> list[Pool]:
        raise NotImplementedError

    def _idle(self) -> bool:
        raise NotImplementedError

    def _abandon(self, job: Job, reason: str) -> None:
        raise NotImplementedError

    # --- stopping -----------------------------------------------------------------------

    def stop(self) -> WorkerStats:
        """Stop gracefully: every work item received ends completed or abandoned.

        Turns not yet started are parked (the sidecar sees them in flight, so it hands out
        nothing new for those instances) while running turns and every received activity
        finish, up to the grace period. Once nothing runs, nothing the worker's own answers
        cause is still on its way, and the stream has been silent for a moment, the sidecar
        has nothing more to hand out; only then is the stream closed, and the parked turns
        are abandoned, so no work item is in transit when the stream goes away. Activities
        received (or on their way) when the grace period ends still run to their end, each
        within its timeout (a sidecar may drop an abandoned activity); a turn still running
        then is killed and abandoned (the sidecar hands it out again).
        """
        if self._life.reached(State.STOPPED):
            return self.stats
        self._life.advance(State.STOP_REQUESTED)
        stream, sender = self._stream, self._sender
        if stream is None or sender is None:
            self._cleanup_pools()
            self._life.advance(State.STOPPED)
            return self.stats
        deadline = time.monotonic() + self.options.grace
        self._drain(deadline)
        self._finish_activities(deadline + self.options.activity_timeout)
        self._life.advance(State.CLOSING)
        stream.cancel()
        stream.join(2.0)
        self._end_running(deadline)
        # Completions still on the wire (sent by the last jobs, or being retried) are
        # answered before the channel goes away; a call ends by its own deadline anyway.
        sender.wait_idle(max(deadline, time.monotonic() + CLOSING_BUDGET))
        stream.close()
        self._cleanup_tmp()
        s = self.stats
        summary = (
            f"{s.received} work items received, {s.completed} completed, "
            f"{s.abandoned} abandoned, {s.undelivered} undelivered"
        )
        self._log(f"stopped: {summary}")
        stream.report("stopped", summary)
        self._life.advance(State.STOPPED)
        return s

    def _drain(self, deadline: float) -> None:
        """Park the turns not started; wait until the sidecar has nothing more for us."""
        self._life.advance(State.DRAINING)
        assert self._turns is not None and self._stream is not None and self._sender is not None
        self._sender.flush()
        with self._lock:
            self._parked.extend(self._turns.take_pending())
        stream = self._stream
        while time.monotonic() < deadline:
            quiet = time.monotonic() - stream.last_message >= QUIET_SECONDS
            # Without an open stream nothing is on its way (the sidecar may be gone).
            owed = stream.reading() and self._expected.owed(self._waiting_instances())
            if quiet and self._idle() and not owed:
                return
            time.sleep(0.02)

    def _finish_activities(self, until: float) -> None:
        """Past the grace, run every activity received (or on its way) to its end.

        Some sidecars drop an abandoned activity, so an activity the worker took is finished,
        each within its own timeout, while the stream stays open for those still arriving.
        """
        assert self._activities is not None and self._stream is not None
        stream = self._stream
        while time.monotonic() < until:
            owed = stream.reading() and self._expected.activities_owed()
            if self._activities.idle() and not owed:
                return
            time.sleep(0.02)

    def _waiting_instances(self) -> set[str]:
        with self._lock:
            jobs = [*self._parked, *(job for job, _ in self._held.values())]
        return {job.instance_id for job in jobs}

    def _end_running(self, deadline: float) -> None:
        """Let running work finish until ``deadline``; kill the rest; abandon what is left."""
        pools = self._pools()
        while time.monotonic() < deadline and not self._idle():
            time.sleep(0.02)
        leftovers: list[Job] = []
        for pool in pools:
            pool.close()
            leftovers += pool.take_pending()
        for pool in pools:
            pool.kill_running()
        for pool in pools:
            pool.shutdown()
        self._holdback.flush()
        with self._lock:
            leftovers += self._parked
            leftovers += [job for job, _ in self._held.values()]
            self._parked.clear()
            self._held.clear()
        for job in leftovers:
            self._abandon(job, "the worker stopped")

    def _cleanup_pools(self) -> None:
        for pool in self._pools():
            pool.shutdown(1.0)
        self._cleanup_tmp()

    def _cleanup_tmp(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
