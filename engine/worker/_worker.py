"""The embedded worker: serves a sidecar's work items with the user's APP, isolated.

The rooms it is built from:

- :mod:`engine.worker._stream` reads the ``GetWorkItems`` stream and reconnects;
- :mod:`engine.worker._pool` runs each work item in a user process;
- :mod:`engine.worker._policy` decides what a job's result means (complete, abandon, fail);
- :mod:`engine.worker._sender` delivers the answers (:mod:`engine.worker._batch` sends an
  orchestration's activity results together);
- :mod:`engine.worker._stopping` is the stop sequence (nothing received is lost);
- :mod:`engine.worker._lifecycle` is the one state of the worker's life.

:class:`Worker` ties them together and owns the life cycle. Every work item received ends
either completed or abandoned, including when the worker stops: see :meth:`Worker.stop`.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace

from engine.channel import Dialer
from engine.proto import orchestrator_service_pb2 as pb
from engine.worker._boot import start_pools
from engine.worker._dapr import abandons
from engine.worker._entities import HoldBack, entity_job_name
from engine.worker._events import Outcome, WorkerStats, WorkItemEvent
from engine.worker._expected import Expected
from engine.worker._job import Job
from engine.worker._lifecycle import LifeCycle, State
from engine.worker._messages import (
    orchestrator_name,
)
from engine.worker._options import ConnectionOptions, WorkerOptions
from engine.worker._policy import Abandon, Complete, Fail, decide, refused_failure
from engine.worker._pool import Pool
from engine.worker._process import JobResult
from engine.worker._record import Recorder
from engine.worker._sender import Sender
from engine.worker._stopping import StopSequence
from engine.worker._stream import WORKER_CHANNEL_OPTIONS, WorkStream, work_request

CONNECTION_STATES = ("connected", "failed", "ended", "stopped")
"""The states :class:`Worker`'s ``on_connection`` callback reports."""

MAX_WAITING = 10_000
"""More orchestrations than this waiting on a ``when_all`` here and the record starts over."""

NOT_DELIVERED = "not delivered to the sidecar"
"""The detail of a work item whose answer (or abandon) did not reach the sidecar."""


class Worker(StopSequence):
    """Serves a sidecar's work items with the user's APP.

    Args:
        connection: Where the sidecar is and how to talk to it.
        options: Timeouts, limits, capture.
        on_event: Called with every work item served or given back (from worker threads);
            its ``outcome`` is ``HELD``, ``COMPLETED``, ``FAILED``, ``ABANDONED`` or
            ``UNDELIVERED`` (the answer could not reach the sidecar).
        log: Called with notices (connections, stops, user-process output); never secrets.
        on_received: Called with every work item as it arrives (outcome ``RECEIVED``).
        hold: Asked, once an orchestrator turn's response is computed, whether to hold the
            turn for the debugger instead of completing it. A held turn stays in flight
            (reported with outcome ``HELD``) until :meth:`release_held` completes it or
            :meth:`abandon_held` gives it back; :meth:`stop` abandons whatever is still held.
        on_connection: Called (from the stream thread, or the one calling :meth:`stop`) as
            ``on_connection(state, detail, retry_in)`` when the connection changes; ``state``
            is one of :data:`CONNECTION_STATES`:

            - ``connected``: ``Hello`` answered (``detail`` is the address, with ``re``
              prepended on a reconnect: ``reconnected to HOST:PORT``); ``retry_in`` is None.
            - ``failed``: the connection or the stream failed (``detail`` is the gRPC status
              name, or ``Type: message``); ``retry_in`` is the back-off before the next try.
            - ``ended``: the sidecar ended the stream; ``retry_in`` is the delay before
              connecting again (0: at once).
            - ``stopped``: :meth:`stop` finished (``detail`` sums the work items up); no retry.

            A callback that raises is ignored. The log lines are written as before.
    """

    def __init__(
        self,
        connection: ConnectionOptions,
        options: WorkerOptions,
        *,
        on_event: Callable[[WorkItemEvent], None] | None = None,
        log: Callable[[str], None] | None = None,
        on_received: Callable[[WorkItemEvent], None] | None = None,
        hold: Callable[[WorkItemEvent], bool] | None = None,
        on_connection: Callable[[str, str, float | None], None] | None = None,
    ) -> None:
        self.connection = connection
        self.options = options
        self.stats = WorkerStats()
        self.hold = hold
        self._on_event = on_event
        self._on_received = on_received
        self._on_connection = on_connection or (lambda state, detail, retry_in: None)
        self._log = log or (lambda text: None)
        self._life = LifeCycle()
        self._lock = threading.Lock()
        self._parked: list[Job] = []
        """Turns that arrived while stopping: never started, abandoned once the stream closed."""
        self._held: dict[str, tuple[Job, Complete]] = {}
        """Turns held for the debugger, by completion token, with the answer computed."""
        self._timeouts: dict[str, int] = {}
        self._expected = Expected()
        self._needs: dict[str, set[int]] = {}
        """By orchestration instance: the activities (task ids) a ``when_all`` its code waits on
        still needs, whose results are not settled here yet (their results are held together)."""
        self._number = 0
        self._tmp: str | None = None
        self._recorder = Recorder(options.record_dir, self._log) if options.record_dir else None
        self._turns: Pool | None = None
        self._activities: Pool | None = None
        self._stream: WorkStream | None = None
        self._sender: Sender | None = None
        self._entity_names: tuple[str, ...] = ()
        self._holdback = HoldBack(lambda job: self._abandon(job, "the APP defines no entities"))

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the user processes (the APP must load) and connect to the sidecar.

        Raises:
            ConnectionConfigError: the CA file cannot be read or holds no certificate.
            WorkerError: the APP does not load in a user process.
        """
        dialer = Dialer(self.connection, WORKER_CHANNEL_OPTIONS)
        self._tmp = tempfile.mkdtemp(prefix="inspector-worker-")
        try:
            self._turns, self._activities = start_pools(
                self.options, self._tmp, self._settle, self._echo
            )
        except BaseException:
            self._cleanup_pools()
            raise
        self._entity_names = self._activities.entities()
        stream = WorkStream(
            self.connection,
            dialer,
            self._work_request(),
            self._dispatch,
            self._life,
            self.stats,
            self._log,
            self._on_connection,
            busy=lambda: not self._idle(),
        )
        metadata = self.connection.metadata()
        self._sender = Sender(
            stream.stub,
            metadata,
            self._life,
            self._log,
            stream.touch,
            self.connection.backoff,
            can_abandon=abandons(self.connection.dialect),
            hold=self.options.result_hold,
        )
        self._stream = stream
        self._life.advance(State.SERVING)
        stream.start()

    def _work_request(self) -> pb.GetWorkItemsRequest:
        """``GetWorkItems`` with the limits the pools keep (the app's, when lower)."""
        assert self._turns is not None and self._activities is not None
        turns, activities = self._turns, self._activities
        limits = replace(
            self.options,
            max_orchestrations=turns.limit("turn"),
            max_activities=activities.limit("activity"),
        )
        request = work_request(limits, self._entity_names, turns.capabilities)
        if self._entity_names:
            request.maxConcurrentEntityWorkItems = activities.limit("entity")
        return request

    def _echo(self, label: str, line: str) -> None:
        self._log(f"[{label}] {line}")

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop (safe from a signal handler)."""
        self._life.advance(State.STOP_REQUESTED)

    def run(self) -> WorkerStats:
        """Start, serve until :meth:`request_stop`, then stop gracefully."""
        self.start()
        try:
            while not self._life.wait_for(State.STOP_REQUESTED, 0.5):
                pass
        finally:
            self.stop()
        return self.stats

    @property
    def state(self) -> State:
        """Where the worker is in its life."""
        return self._life.state

    def user_process_ids(self) -> list[int]:
        """Process ids of the live user processes."""
        return [pid for pool in self._pools() for pid in pool.processes()]

    def _pools(self) -> list[Pool]:
        return [p for p in (self._turns, self._activities) if p is not None]

    def _idle(self) -> bool:
        sender = self._sender
        pools_idle = all(pool.idle() for pool in self._pools())
        return pools_idle and (sender is None or sender.idle())

    # --- work items arriving ------------------------------------------------------------

    def _dispatch(self, item: pb.WorkItem) -> None:
        which = item.WhichOneof("request")
        if which == "healthPing":
            return
        if which == "orchestratorRequest":
            self._turn_arrived(item.orchestratorRequest, item.completionToken)
        elif which == "activityRequest":
            self._activity_arrived(item.activityRequest, item.completionToken)
        elif which in ("entityRequest", "entityRequestV2"):
            self._entity_arrived(item)
        else:
            self._log(f"ignoring a work item of unknown kind ({which})")

    def _next_number(self) -> int:
        with self._lock:
            self._number += 1
            self.stats.received += 1
            return self._number

    def _turn_arrived(self, request: pb.OrchestratorRequest, token: str) -> None:
        self._expected.turn_arrived(request)
        name = orchestrator_name(request)
        data = request.SerializeToString()
        job = Job("turn", data, token, request.instanceId, name, number=self._next_number())
        self._received(job)
        assert self._turns is not None

        def keep_waiting() -> bool:
            return not self._life.reached(State.DRAINING)

        if not keep_waiting() or not self._turns.submit(job, should_wait=keep_waiting):
            with self._lock:
                self._parked.append(job)

    def _activity_arrived(self, request: pb.ActivityRequest, token: str) -> None:
        self._expected.activity_arrived(request)
        instance = request.orchestrationInstance.instanceId
        data = request.SerializeToString()
        job = Job(
            "activity", data, token, instance, request.name, request, number=self._next_number()
        )
        self._received(job)
        assert self._activities is not None
        if not self._activities.submit(job):
            self._last_needed(instance, request.taskId)
            self._abandon(job, "the worker is stopping")

    def _turn_needs(self, instance: str, needs: frozenset[int]) -> None:
        """A turn of ``instance`` was answered: its code waits on a ``when_all`` that still
        needs ``needs`` (empty: on anything else), less the results already on their way."""
        left = self._expected.results_not_sent(instance, needs) if needs else needs
        with self._lock:
            if left:
                if len(self._needs) >= MAX_WAITING:
                    self._needs.clear()  # instances another worker took over: start over
                self._needs[instance] = set(left)
            else:
                self._needs.pop(instance, None)

    def _last_needed(self, instance: str, task_id: int) -> bool:
        """One activity of ``instance`` is settled: whether its result goes out now (the code
        waits on no ``when_all`` that still needs another activity)."""
        with self._lock:
            needs = self._needs.get(instance)
            if needs is None or task_id not in needs:
                return True
            needs.discard(task_id)
            if needs:
                return False
            del self._needs[instance]
            return True

    def _entity_arrived(self, item: pb.WorkItem) -> None:
        (name, ops), token, number = (
            entity_job_name(item),
            item.completionToken,
            self._next_number(),
        )
        job = Job("entity", item.SerializeToString(), token, name, ops, item, number=number)
        self._received(job)
        if not self._entity_names:  # given back later: the sidecar would redeliver it at once
            delay = self._holdback.hold(job)
            self._log(f"entity #{number} {name}: the APP defines no entities; back in {delay:g}s")
        elif not (self._activities is not None and self._activities.submit(job)):
            self._abandon(job, "the worker is stopping")

    def _received(self, job: Job) -> None:
        if self._recorder is not None:
            self._recorder.request(self._stem(job), job.data)
        if self._on_received is not None:
            self._on_received(job.event(Outcome.RECEIVED, "RECEIVED"))

    # --- results and answers ------------------------------------------------------------

    def _settle(self, job: Job, result: JobResult) -> None:
        """A pool's ``on_result``: what the policy decides is done here."""
        key, group, last = job.instance_id, "", True
        if job.kind == "activity":
            key += f"\x00{job.request.taskId}"
            group, last = job.instance_id, self._last_needed(job.instance_id, job.request.taskId)
        elif job.kind == "turn":
            self._turn_needs(job.instance_id, result.needs)
        with self._lock:
            decision = decide(job.kind, result, self._timeouts.get(key, 0), self.options)
            if decision.timeouts:
                self._timeouts[key] = decision.timeouts
            else:
                self._timeouts.pop(key, None)
        action = decision.action
        if isinstance(action, Abandon):
            self._abandon(job, action.reason)
        elif isinstance(action, Fail):
            failure = action.failure
            response = job.failure_response(failure)
            self._complete(
                job,
                response,
                f"FAILED {failure.error_type}",
                Outcome.FAILED,
                failure.message,
                group=group,
                last=last,
            )
        elif not (job.kind == "turn" and self._maybe_hold(job, action)):
            self._complete(
                job, action.response, action.result, action.outcome, group=group, last=last
            )

    def _complete(
        self,
        job: Job,
        response: bytes,
        result: str,
        outcome: Outcome,
        detail: str = "",
        fallback: bool = False,
        group: str = "",
        last: bool = True,
    ) -> None:
        """Send a job's answer; its event follows once the sidecar answered.

        A response the sidecar refuses for good is replaced by a failure (once: ``fallback``
        marks the failure sent in its place).
        """
        assert self._sender is not None
        if job.kind == "turn":
            self._expected.turn_sent(pb.OrchestratorResponse.FromString(response))
        elif job.kind == "activity":
            self._expected.activity_sent(job.instance_id, job.request.taskId)

        def done(delivered: bool, refused: str) -> None:
            if refused and not fallback:
                self._refused(job, response, refused)
                return
            with self._lock:
                if delivered:
                    self.stats.completed += 1
                else:
                    self.stats.undelivered += 1
            if self._recorder is not None:
                self._recorder.response(self._stem(job), response)
            if delivered:
                self._event(job, outcome, result, detail, response)
                return
            if job.kind != "entity":
                self._expected.not_sent(job.kind, job.instance_id, response)
            text = f"{NOT_DELIVERED}; {detail}" if detail else NOT_DELIVERED
            self._event(job, Outcome.UNDELIVERED, result, text, response)

        what = f"complete {job.kind} #{job.number} of {job.instance_id}"
        self._sender.complete(job.kind, response, what, done, group, last)

    def _refused(self, job: Job, refused_response: bytes, refused: str) -> None:
        """The sidecar refused a response for good: answer with a failure that says why."""
        failure = refused_failure(job.kind, refused)
        self._expected.not_sent(job.kind, job.instance_id, refused_response)
        response = job.failure_response(failure)
        self._complete(
            job, response, f"FAILED {failure.error_type}", Outcome.FAILED, failure.message, True
        )

    def _abandon(self, job: Job, reason: str) -> None:
        assert self._sender is not None
        given_back = self._sender.abandon(job.kind, job.token, f"abandon {job.kind} #{job.number}")
        with self._lock:
            if given_back:
                self.stats.abandoned += 1
            else:
                self.stats.undelivered += 1
        if self._recorder is not None:
            self._recorder.abandoned(self._stem(job), reason)
        if given_back:
            self._event(job, Outcome.ABANDONED, "ABANDONED", reason)
        else:
            self._event(job, Outcome.UNDELIVERED, "ABANDONED", f"{reason}; {NOT_DELIVERED}")

    def _event(
        self, job: Job, outcome: Outcome, result: str, detail: str = "", response: bytes = b""
    ) -> None:
        if self._on_event is not None:
            self._on_event(job.event(outcome, result, detail, response))

    def _stem(self, job: Job) -> str:
        assert self._recorder is not None
        return self._recorder.stem(job.number, job.kind, job.instance_id, job.name)

    # --- turns held for the debugger ----------------------------------------------------

    def held_tokens(self) -> list[str]:
        """Completion tokens of the turns held right now."""
        with self._lock:
            return list(self._held)

    def release_held(self, token: str) -> bool:
        """Complete a held turn with the response computed for it; False if not held."""
        with self._lock:
            held = self._held.pop(token, None)
        if held is None:
            return False
        job, answer = held
        self._complete(job, answer.response, answer.result, answer.outcome, "released")
        return True

    def abandon_held(self, token: str) -> bool:
        """Give a held turn back to the sidecar for redelivery; False if not held."""
        with self._lock:
            held = self._held.pop(token, None)
        if held is None:
            return False
        self._abandon(held[0], "abandoned while held")
        return True

    def _maybe_hold(self, job: Job, answer: Complete) -> bool:
        if self.hold is None or self._life.reached(State.DRAINING):
            return False
        try:
            wanted = self.hold(job.event(answer.outcome, answer.result, "", answer.response))
        except Exception as err:  # noqa: BLE001 - a broken predicate never loses a turn
            self._log(f"hold predicate failed ({type(err).__name__}: {err})")
            return False
        if not wanted:
            return False
        with self._lock:
            self._held[job.token] = (job, answer)
        self._event(job, Outcome.HELD, "HELD", answer.result, answer.response)
        return True
