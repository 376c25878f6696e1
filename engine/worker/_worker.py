"""The embedded worker: serves a sidecar's work items with the user's APP, isolated.

One thread reads the ``GetWorkItems`` stream and hands each work item to a pool of user
processes (one pool for orchestrator turns, one for activities); the pools' threads send the
answers. A watchdog reconnects a stream that fell silent. Every work item received ends either
completed or abandoned, including when the worker stops: see :meth:`Worker.stop`.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import grpc

from engine.history import FailureDetails
from engine.proto import orchestrator_service_pb2 as pb
from engine.sidecar import SidecarStub, method_path
from engine.worker._errors import ActivityTimeoutError, TurnTimeoutError, UserProcessCrashed
from engine.worker._events import Outcome, WorkerStats, WorkItemEvent
from engine.worker._messages import (
    failed_activity_response,
    failed_turn_response,
    orchestrator_name,
)
from engine.worker._options import ConnectionOptions, WorkerOptions
from engine.worker._pool import Job, JobResult, Pool, UserProcess
from engine.worker._record import Recorder

CONNECTION_STATES = ("connected", "failed", "ended", "stopped")
"""The states :class:`Worker`'s ``on_connection`` callback reports."""

QUIET_SECONDS = 0.5
"""On stop: how long the stream must stay silent before it is closed (the sidecar is drained)."""

_RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}
_CALL_TIMEOUT = 30.0
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    # A small receive window keeps the sidecar from pushing far more work items than the
    # pools can take: what is received must be finished or abandoned on stop, and some
    # sidecars drop an abandoned activity.
    ("grpc.http2.lookahead_bytes", 4096),
    ("grpc.http2.bdp_probe", 0),
    # The stream's messages are read on the reader thread itself, not handed over from
    # gRPC's channel-spin thread: one thread switch less per work item.
    ("SingleThreadedUnaryStream", 1),
]


class _Calls:
    """The RPCs on one channel; completions are sent as the bytes the user process produced."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.stub = SidecarStub(channel)

        def raw(data: bytes) -> bytes:
            return data

        self.complete_turn = channel.unary_unary(
            method_path("CompleteOrchestratorTask"),
            request_serializer=raw,
            response_deserializer=pb.CompleteTaskResponse.FromString,
        )
        self.complete_activity = channel.unary_unary(
            method_path("CompleteActivityTask"),
            request_serializer=raw,
            response_deserializer=pb.CompleteTaskResponse.FromString,
        )
        self.abandon_entity = channel.unary_unary(
            method_path("AbandonTaskEntityWorkItem"),
            request_serializer=raw,
            response_deserializer=pb.AbandonEntityTaskResponse.FromString,
        )


class Worker:
    """Serves a sidecar's work items with the user's APP.

    Args:
        connection: Where the sidecar is and how to talk to it.
        options: Timeouts, limits, capture.
        on_event: Called with every work item served or given back (from worker threads).
        log: Called with notices (connections, stops, user-process output); never secrets.
        on_received: Called with every work item as it arrives (result ``RECEIVED``).
        hold: Asked, once an orchestrator turn's response is computed, whether to hold the
            turn instead of completing it. A held turn stays in flight (reported with result
            ``HELD``) until :meth:`release_held` completes it or :meth:`abandon_held` gives it
            back; :meth:`stop` abandons whatever is still held.
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
        self._on_event = on_event
        self._log = log or (lambda text: None)
        self._lock = threading.Lock()
        self._calls: _Calls | None = None
        self._stream: Any = None
        self._last_message = time.monotonic()
        self._stopping = threading.Event()
        self._stop_reading = threading.Event()
        self._stop_requested = threading.Event()
        self._stopped = threading.Event()
        self._held: list[Job] = []
        self._timeouts: dict[str, int] = {}
        self._number = 0
        self._threads: list[threading.Thread] = []
        self._tmp: str | None = None
        self._recorder = Recorder(options.record_dir) if options.record_dir else None
        self._turns: Pool | None = None
        self._activities: Pool | None = None
        self._started = False
        self._on_received = on_received
        self.hold = hold
        self._held_turns: dict[str, tuple[Job, bytes, str]] = {}
        self._sending = 0
        self._on_connection = on_connection

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the user processes (the APP must load) and connect to the sidecar.

        Raises:
            WorkerError: the APP does not load in a user process.
        """
        self._tmp = tempfile.mkdtemp(prefix="inspector-worker-")
        opts = self.options
        try:
            self._turns = Pool(
                "turn",
                opts.max_orchestrations,
                self._spawner("turn"),
                opts.turn_timeout,
                self._turn_done,
            )
            self._activities = Pool(
                "activity",
                opts.max_activities,
                self._spawner("activity"),
                opts.activity_timeout,
                self._activity_done,
            )
            errors: list[BaseException] = []

            def boot(pool: Pool) -> None:
                try:
                    pool.start()
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    errors.append(exc)

            booting = [
                threading.Thread(target=boot, args=(pool,))
                for pool in (self._turns, self._activities)
            ]
            for thread in booting:
                thread.start()
            for thread in booting:
                thread.join()
            if errors:
                raise errors[0]
        except BaseException:
            self._cleanup_pools()
            raise
        self._started = True
        for target, name in ((self._read_loop, "stream"), (self._watchdog, "watchdog")):
            thread = threading.Thread(target=target, name=f"worker-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _spawner(self, kind: str) -> Callable[[int], UserProcess]:
        interval = self.options.maximum_timer_interval
        seconds = None if interval is None else interval.total_seconds()

        def spawn(index: int) -> UserProcess:
            assert self._tmp is not None
            return UserProcess(
                self.options.app,
                f"{kind}-{index + 1}",
                self._tmp,
                seconds,
                self.options.start_method,
                echo=self._echo,
            )

        return spawn

    def _echo(self, label: str, line: str) -> None:
        self._log(f"[{label}] {line}")

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop (safe from a signal handler)."""
        self._stop_requested.set()

    def run(self) -> WorkerStats:
        """Start, serve until :meth:`request_stop`, then stop gracefully."""
        self.start()
        try:
            while not self._stop_requested.wait(0.5):
                pass
        finally:
            self.stop()
        return self.stats

    def user_process_ids(self) -> list[int]:
        """Process ids of the live user processes."""
        pools = [p for p in (self._turns, self._activities) if p is not None]
        return [pid for pool in pools for pid in pool.processes()]

    # --- the stream ---------------------------------------------------------------------

    def _metadata(self) -> list[tuple[str, str]] | None:
        return list(self.connection.headers) or None

    def _channel(self) -> grpc.Channel:
        conn = self.connection
        if conn.tls:
            roots = None
            if conn.ca_file:
                with open(conn.ca_file, "rb") as handle:
                    roots = handle.read()
            credentials = grpc.ssl_channel_credentials(root_certificates=roots)
            return grpc.secure_channel(conn.address, credentials, options=_CHANNEL_OPTIONS)
        return grpc.insecure_channel(conn.address, options=_CHANNEL_OPTIONS)

    def _work_request(self) -> pb.GetWorkItemsRequest:
        opts = self.options
        request = pb.GetWorkItemsRequest(
            maxConcurrentOrchestrationWorkItems=opts.max_orchestrations,
            maxConcurrentActivityWorkItems=opts.max_activities,
            maxConcurrentEntityWorkItems=1,
        )
        if opts.orchestrator_filter is not None or opts.activity_filter is not None:
            filters = request.workItemFilters
            for name in opts.orchestrator_filter or ():
                filters.orchestrations.add(name=name)
            for name in opts.activity_filter or ():
                filters.activities.add(name=name)
        return request

    def _connection(self, state: str, detail: str, retry_in: float | None = None) -> None:
        if self._on_connection is None:
            return
        try:
            self._on_connection(state, detail, retry_in)
        except Exception as err:  # noqa: BLE001 - a broken callback never stops the worker
            self._log(f"connection callback failed ({type(err).__name__}: {err})")

    def _read_loop(self) -> None:
        conn = self.connection
        attempt = 0
        connected_once = False
        while not self._stop_reading.is_set():
            failure = ""
            channel = self._channel()
            calls = _Calls(channel)
            try:
                calls.stub.hello(timeout=conn.hello_timeout, metadata=self._metadata())
                with self._lock:
                    old, self._calls = self._calls, calls
                if old is not None:
                    old.channel.close()
                attempt = 0
                if connected_once:
                    self.stats.reconnects += 1
                self._log(
                    f"{'re' if connected_once else ''}connected to {conn.address}"
                    + (f" (headers: {', '.join(conn.header_names())})" if conn.headers else "")
                )
                self._connection(
                    "connected", f"{'re' if connected_once else ''}connected to {conn.address}"
                )
                connected_once = True
                stream = calls.stub.get_work_items(self._work_request(), metadata=self._metadata())
                with self._lock:
                    self._stream = stream
                if self._stop_reading.is_set():
                    stream.cancel()
                self._last_message = time.monotonic()
                for item in stream:
                    self._last_message = time.monotonic()
                    self._dispatch(item)
                if self._stop_reading.is_set():
                    break
                self._log("the work-item stream ended; reconnecting")
                self._connection("ended", "the work-item stream ended", 0.0)
                continue
            except grpc.RpcError as err:
                if self._stop_reading.is_set():
                    break
                code = err.code() if hasattr(err, "code") else None
                name = code.name if code is not None else type(err).__name__
                self._log(f"sidecar connection failed ({name}); retrying")
                failure = name
            except Exception as err:  # noqa: BLE001 - never let the reader die
                if self._stop_reading.is_set():
                    break
                self._log(f"work-item stream error ({type(err).__name__}: {err}); retrying")
                failure = f"{type(err).__name__}: {err}"
            finally:
                with self._lock:
                    self._stream = None
                    if self._calls is not calls:
                        channel.close()
            delay = random.random() * min(conn.backoff_cap, conn.backoff_base * 2**attempt)
            attempt += 1
            self._connection("failed", failure, delay)
            self._stop_reading.wait(delay)

    def _watchdog(self) -> None:
        limit = self.connection.silent_timeout
        while not self._stop_reading.wait(0.5):
            if time.monotonic() - self._last_message <= limit:
                continue
            if not self._pools_idle():
                continue
            with self._lock:
                stream = self._stream
            if stream is not None:
                self._log(f"no message for {limit:.0f}s; reconnecting")
                self._last_message = time.monotonic()
                stream.cancel()

    def _pools_idle(self) -> bool:
        pools = (self._turns, self._activities)
        return all(p is None or p.idle() for p in pools) and self._sends_done()

    def _next_number(self) -> int:
        with self._lock:
            self._number += 1
            self.stats.received += 1
            return self._number

    def _dispatch(self, item: pb.WorkItem) -> None:
        which = item.WhichOneof("request")
        token = item.completionToken
        if which == "healthPing":
            return
        if which == "orchestratorRequest":
            request = item.orchestratorRequest
            job = Job(
                "turn",
                request.SerializeToString(),
                token,
                request.instanceId,
                orchestrator_name(request),
                number=self._next_number(),
            )
            self._record_request(job)
            self._received(job)
            if self._stopping.is_set():
                with self._lock:
                    self._held.append(job)
                return
            assert self._turns is not None
            if not self._turns.submit(job, should_wait=lambda: not self._stopping.is_set()):
                with self._lock:
                    self._held.append(job)
        elif which == "activityRequest":
            activity = item.activityRequest
            job = Job(
                "activity",
                activity.SerializeToString(),
                token,
                activity.orchestrationInstance.instanceId,
                activity.name,
                request=activity,
                number=self._next_number(),
            )
            self._record_request(job)
            self._received(job)
            assert self._activities is not None
            if not self._activities.submit(job):
                self._abandon(job, "the worker is stopping")
        elif which in ("entityRequest", "entityRequestV2"):
            number = self._next_number()
            self._log(f"entity work items are not served; giving #{number} back")
            self._call(
                "abandon",
                lambda c: c.abandon_entity(
                    pb.AbandonEntityTaskRequest(completionToken=token).SerializeToString(),
                    timeout=_CALL_TIMEOUT,
                    metadata=self._metadata(),
                ),
            )
            with self._lock:
                self.stats.abandoned += 1
        else:
            self._log(f"ignoring a work item of unknown kind ({which})")

    # --- answers ------------------------------------------------------------------------

    def _call(self, what: str, send: Callable[[_Calls], Any]) -> bool:
        delays = (0.2, 0.5, 1.0, 2.0)
        for attempt in range(len(delays) + 1):
            with self._lock:
                calls = self._calls
            if calls is None:
                if attempt == len(delays):
                    break
                time.sleep(delays[attempt])
                continue
            try:
                send(calls)
                # What we send can make the sidecar hand out new work (a completed activity
                # wakes its orchestration): the stream is not quiet until that has passed.
                self._last_message = time.monotonic()
                return True
            except grpc.RpcError as err:
                code = err.code() if hasattr(err, "code") else None
                if code not in _RETRYABLE or attempt == len(delays):
                    name = code.name if code is not None else type(err).__name__
                    self._log(f"could not {what} ({name})")
                    return False
                time.sleep(delays[attempt])
        self._log(f"could not {what} (not connected)")
        return False

    def _send_turn(self, job: Job, response: bytes, then: Callable[[], None] | None = None) -> None:
        self._send(job, response, then)

    def _send_activity(
        self, job: Job, response: bytes, then: Callable[[], None] | None = None
    ) -> None:
        self._send(job, response, then)

    def _send(self, job: Job, response: bytes, then: Callable[[], None] | None) -> None:
        """Complete a work item without waiting for the sidecar's answer.

        The completion goes out as a gRPC future, so the pool slot (and its user process)
        takes the next work item at once instead of idling for a round trip to the sidecar.
        ``then`` (the log event) runs once the sidecar answered. A retryable failure is
        retried in a thread with :meth:`_call`'s back-off. Until every completion is
        answered the worker is not idle, so stopping still waits for them.
        """
        what = f"complete {'turn' if job.kind == 'turn' else 'activity'} #{job.number} of "
        what += job.instance_id
        with self._lock:
            self._sending += 1
            calls = self._calls
        if calls is not None:
            method = calls.complete_turn if job.kind == "turn" else calls.complete_activity
            try:
                future = method.future(response, timeout=_CALL_TIMEOUT, metadata=self._metadata())
            except Exception:  # noqa: BLE001 - fall back to the retrying path
                future = None
            if future is not None:
                future.add_done_callback(lambda done: self._sent(job, response, what, done, then))
                return
        self._retry_send(job, response, what, then)

    def _sent(
        self, job: Job, response: bytes, what: str, future: Any, then: Callable[[], None] | None
    ) -> None:
        try:
            err = future.exception()
        except BaseException as exc:  # noqa: BLE001 - a cancelled future
            err = exc
        if err is None:
            self._last_message = time.monotonic()
            self._finish_send(job, response, True, then)
            return
        code = err.code() if hasattr(err, "code") else None
        if code in _RETRYABLE and not self._stopped.is_set():
            threading.Thread(
                target=self._retry_send,
                args=(job, response, what, then),
                name="worker-retry",
                daemon=True,
            ).start()
            return
        name = code.name if code is not None else type(err).__name__
        self._log(f"could not {what} ({name})")
        self._finish_send(job, response, False, then)

    def _retry_send(
        self, job: Job, response: bytes, what: str, then: Callable[[], None] | None
    ) -> None:
        if job.kind == "turn":
            ok = self._call(
                what,
                lambda c: c.complete_turn(
                    response, timeout=_CALL_TIMEOUT, metadata=self._metadata()
                ),
            )
        else:
            ok = self._call(
                what,
                lambda c: c.complete_activity(
                    response, timeout=_CALL_TIMEOUT, metadata=self._metadata()
                ),
            )
        self._finish_send(job, response, ok, then)

    def _finish_send(
        self, job: Job, response: bytes, ok: bool, then: Callable[[], None] | None
    ) -> None:
        try:
            with self._lock:
                if ok:
                    self.stats.completed += 1
                else:
                    self.stats.undelivered += 1
            if self._recorder is not None:
                self._recorder.response(self._stem(job), response)
            if then is not None:
                then()
        finally:
            with self._lock:
                self._sending -= 1

    def _sends_done(self) -> bool:
        with self._lock:
            return self._sending == 0

    def _abandon(self, job: Job, reason: str) -> None:
        token = job.token
        md = self._metadata()
        if job.kind == "turn":
            req: Any = pb.AbandonOrchestrationTaskRequest(completionToken=token)
            ok = self._call(
                f"abandon turn #{job.number}",
                lambda c: c.stub.abandon_orchestrator_work_item(
                    req, timeout=_CALL_TIMEOUT, metadata=md
                ),
            )
        else:
            req = pb.AbandonActivityTaskRequest(completionToken=token)
            ok = self._call(
                f"abandon activity #{job.number}",
                lambda c: c.stub.abandon_activity_work_item(
                    req, timeout=_CALL_TIMEOUT, metadata=md
                ),
            )
        with self._lock:
            if ok:
                self.stats.abandoned += 1
            else:
                self.stats.undelivered += 1
        if self._recorder is not None:
            self._recorder.abandoned(self._stem(job), reason)
        self._event(job, "ABANDONED", reason)

    def _event(self, job: Job, result: str, detail: str = "", response: bytes = b"") -> None:
        if self._on_event is None:
            return
        self._on_event(self._describe(job, result, detail, response))

    def _describe(
        self, job: Job, result: str, detail: str = "", response: bytes = b""
    ) -> WorkItemEvent:
        return WorkItemEvent(
            time=datetime.now(timezone.utc),
            kind="orchestrator" if job.kind == "turn" else "activity",
            instance_id=job.instance_id,
            name=job.name,
            result=result,
            seconds=time.monotonic() - job.received,
            number=job.number,
            outcome=_outcome_of(result),
            detail=detail,
            request=job.data,
            response=response,
            token=job.token,
        )

    def _received(self, job: Job) -> None:
        if self._on_received is not None:
            self._on_received(self._describe(job, "RECEIVED"))

    # --- held turns (live debugging) ----------------------------------------------------

    def held_tokens(self) -> list[str]:
        """Completion tokens of the turns held right now."""
        with self._lock:
            return list(self._held_turns)

    def release_held(self, token: str) -> bool:
        """Complete a held turn with the response computed for it; False if not held."""
        with self._lock:
            held = self._held_turns.pop(token, None)
        if held is None:
            return False
        job, response, summary = held
        self._send_turn(job, response, lambda: self._event(job, summary, "released", response))
        return True

    def abandon_held(self, token: str) -> bool:
        """Give a held turn back to the sidecar for redelivery; False if not held."""
        with self._lock:
            held = self._held_turns.pop(token, None)
        if held is None:
            return False
        self._abandon(held[0], "abandoned while held")
        return True

    def _maybe_hold(self, job: Job, response: bytes, summary: str) -> bool:
        if self.hold is None or self._stopping.is_set():
            return False
        try:
            wanted = self.hold(self._describe(job, summary, "", response))
        except Exception as err:  # noqa: BLE001 - a broken predicate never loses a turn
            self._log(f"hold predicate failed ({type(err).__name__}: {err})")
            return False
        if not wanted:
            return False
        with self._lock:
            self._held_turns[job.token] = (job, response, summary)
        self._event(job, "HELD", summary, response)
        return True

    def _stem(self, job: Job) -> str:
        assert self._recorder is not None
        return self._recorder.stem(job.number, job.kind, job.instance_id, job.name)

    def _record_request(self, job: Job) -> None:
        if self._recorder is not None:
            self._recorder.request(self._stem(job), job.data)

    def _turn_done(self, job: Job, result: JobResult) -> None:
        opts = self.options
        if result.outcome == "done":
            with self._lock:
                self._timeouts.pop(job.instance_id, None)
            if self._maybe_hold(job, result.response, result.summary):
                return
            self._send_turn(
                job,
                result.response,
                lambda: self._event(job, result.summary, "", result.response),
            )
        elif result.outcome == "timeout":
            with self._lock:
                count = self._timeouts.get(job.instance_id, 0) + 1
                self._timeouts[job.instance_id] = count
            where = f"stuck at {result.location}"
            if count >= opts.max_timeouts:
                with self._lock:
                    self._timeouts.pop(job.instance_id, None)
                failure = FailureDetails(
                    error_type=_type_name(TurnTimeoutError),
                    message=(
                        f"the orchestrator turn ran past its {opts.turn_timeout:g}s timeout "
                        f"{count} times; {where}"
                    ),
                    stack_trace=result.stack or None,
                )
                response = failed_turn_response(job.instance_id, job.token, failure)
                self._send_turn(
                    job,
                    response.SerializeToString(),
                    lambda: self._event(job, f"FAILED {failure.error_type}", failure.message),
                )
            else:
                self._abandon(
                    job,
                    f"timed out after {opts.turn_timeout:g}s ({count} of {opts.max_timeouts}); "
                    f"{where}",
                )
        elif result.outcome == "crashed":
            failure = _crash_failure(result, "turn")
            response = failed_turn_response(job.instance_id, job.token, failure)
            self._send_turn(
                job,
                response.SerializeToString(),
                lambda: self._event(job, f"FAILED {failure.error_type}", failure.message),
            )
        else:
            self._abandon(job, "the worker stopped before the turn finished")

    def _activity_done(self, job: Job, result: JobResult) -> None:
        opts = self.options
        if result.outcome == "done":
            self._send_activity(
                job,
                result.response,
                lambda: self._event(job, result.summary, "", result.response),
            )
            return
        if result.outcome == "timeout":
            key = f"{job.instance_id}\x00{job.request.taskId}"
            with self._lock:
                count = self._timeouts.get(key, 0) + 1
                self._timeouts[key] = count
            where = f"stuck at {result.location}"
            if count < opts.max_timeouts:
                self._abandon(
                    job,
                    f"timed out after {opts.activity_timeout:g}s ({count} of "
                    f"{opts.max_timeouts}); {where}",
                )
                return
            with self._lock:
                self._timeouts.pop(key, None)
            failure = FailureDetails(
                error_type=_type_name(ActivityTimeoutError),
                message=(
                    f"the activity ran past its {opts.activity_timeout:g}s timeout {count} "
                    f"times; {where}"
                ),
                stack_trace=result.stack or None,
            )
        elif result.outcome == "crashed":
            failure = _crash_failure(result, "activity")
        else:
            self._abandon(job, "the worker stopped before the activity finished")
            return
        response = failed_activity_response(job.request, job.token, failure)
        self._send_activity(
            job,
            response.SerializeToString(),
            lambda: self._event(job, f"FAILED {failure.error_type}", failure.message),
        )

    # --- stopping -----------------------------------------------------------------------

    def stop(self) -> WorkerStats:
        """Stop gracefully: every work item received ends completed or abandoned.

        Turns not yet started are held (the sidecar sees them in flight, so it hands out
        nothing new for those instances) while running turns and every received activity
        finish, up to the grace period. When the stream has been silent for a moment the
        sidecar has nothing more to hand out; only then is it closed, and the held turns
        are abandoned, so no work item is in transit when the stream goes away. What still
        runs when the grace period ends is killed and abandoned.
        """
        if self._stopped.is_set():
            return self.stats
        self._stop_requested.set()
        if not self._started:
            self._cleanup_pools()
            self._stopped.set()
            return self.stats
        deadline = time.monotonic() + self.options.grace
        self._stopping.set()
        turns, activities = self._turns, self._activities
        assert turns is not None and activities is not None
        with self._lock:
            self._held.extend(turns.take_pending())
        while time.monotonic() < deadline:
            quiet = time.monotonic() - self._last_message >= QUIET_SECONDS
            if quiet and turns.idle() and activities.idle() and self._sends_done():
                break
            time.sleep(0.02)
        self._stop_reading.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.cancel()
        for thread in self._threads:
            thread.join(2.0)
        while time.monotonic() < deadline and not (
            turns.idle() and activities.idle() and self._sends_done()
        ):
            time.sleep(0.02)
        turns.close()
        activities.close()
        leftovers = turns.take_pending() + activities.take_pending()
        turns.kill_running()
        activities.kill_running()
        turns.shutdown()
        activities.shutdown()
        with self._lock:
            leftovers.extend(self._held)
            self._held.clear()
            leftovers.extend(job for job, _, _ in self._held_turns.values())
            self._held_turns.clear()
        for job in leftovers:
            self._abandon(job, "the worker stopped")
        # Completions still on the wire (sent by the last jobs, or being retried) are
        # answered before the channel goes away; a call ends by its own deadline anyway.
        until = max(deadline, time.monotonic() + 2.0)
        while not self._sends_done() and time.monotonic() < until:
            time.sleep(0.01)
        with self._lock:
            calls, self._calls = self._calls, None
        if calls is not None:
            calls.channel.close()
        self._cleanup_tmp()
        s = self.stats
        summary = (
            f"{s.received} work items received, {s.completed} completed, "
            f"{s.abandoned} abandoned, {s.undelivered} undelivered"
        )
        self._log(f"stopped: {summary}")
        self._connection("stopped", summary)
        self._stopped.set()
        return s

    def _cleanup_pools(self) -> None:
        for pool in (self._turns, self._activities):
            if pool is not None:
                pool.shutdown(1.0)
        self._cleanup_tmp()

    def _cleanup_tmp(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _crash_failure(result: JobResult, what: str) -> FailureDetails:
    output = result.output.strip()
    code = result.exitcode
    how = f"exit code {code}" if code is not None and code >= 0 else f"signal {-(code or 0)}"
    message = f"the user process died ({how}) while running the {what}"
    if output:
        message += "; last output:\n" + output
    return FailureDetails(error_type=_type_name(UserProcessCrashed), message=message)


def _outcome_of(result: str) -> Outcome:
    if result in ("RECEIVED", "HELD", "ABANDONED"):
        return Outcome[result]
    return Outcome.FAILED if result.startswith("FAILED") else Outcome.COMPLETED
