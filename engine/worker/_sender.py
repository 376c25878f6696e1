"""Answers to the sidecar: completions without waiting, abandons, retries.

A completion goes out as a gRPC future, so a pool slot (and its user process) takes the next
work item at once instead of idling for a round trip to the sidecar; the caller's ``done``
runs once the sidecar answered. A retryable failure (the sidecar unreachable) is retried in a
thread with the connection's back-off for as long as the worker keeps reconnecting (until it
closes); a refusal for good (``RESOURCE_EXHAUSTED``: too large; ``INVALID_ARGUMENT``) is handed
to ``done`` with the reason, so the caller can answer with a failure instead. Until every
answer is in, the sender is not :meth:`Sender.idle`, so stopping waits for them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import grpc

from engine.channel import Backoff
from engine.proto import orchestrator_service_pb2 as pb
from engine.sidecar import SidecarStub
from engine.worker._batch import HOLD_SECONDS, ResultBatch
from engine.worker._lifecycle import LifeCycle, State
from engine.worker._stream import error_name

CALL_TIMEOUT = 30.0
"""Deadline of one completion or abandon call, in seconds."""

CLOSING_DELAYS = (0.2, 0.5, 1.0, 2.0)
"""Pauses between the last attempts of a call once the worker closes (it no longer reconnects)."""

CLOSING_BUDGET = sum(CLOSING_DELAYS) + 2.0
"""Seconds stopping waits for the calls still being retried when the worker closes."""

_RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}


def _retryable(err: BaseException) -> bool:
    code = err.code() if isinstance(err, grpc.RpcError) and hasattr(err, "code") else None
    return code in _RETRYABLE


def refusal(err: BaseException) -> str:
    """What a sidecar's refusal says: ``RESOURCE_EXHAUSTED: <the sidecar's details>``."""
    details = err.details() if isinstance(err, grpc.RpcError) and hasattr(err, "details") else ""
    name = error_name(err)
    return f"{name}: {details}" if details else name


Done = Callable[[bool, str], None]
"""``done(delivered, refused)``: ``refused`` is the sidecar's reason when it refused for good."""


class Sender:
    """Sends completions and abandons on whatever connection is current.

    Args:
        stub: The client on the current connection (None while not connected).
        metadata: The call metadata.
        life: The worker's life cycle (no retry is started once it is ``STOPPED``).
        log: Notices for people (``could not complete turn #3 of x (UNAVAILABLE)``).
        answered: Called whenever the sidecar answered a call (it may hand out new work).
        backoff: A fresh back-off for one call's retries (the connection's reconnect rule).
        can_abandon: Whether the sidecar can take work back (Dapr's cannot:
            :func:`engine.dapr_wire.abandons`).
        hold: Seconds an activity result waits at most for its siblings (:mod:`._batch`).
    """

    def __init__(
        self,
        stub: Callable[[], SidecarStub | None],
        metadata: list[tuple[str, str]] | None,
        life: LifeCycle,
        log: Callable[[str], None],
        answered: Callable[[], None],
        backoff: Callable[[], Backoff] = Backoff,
        can_abandon: bool = True,
        hold: float = HOLD_SECONDS,
    ) -> None:
        self._stub = stub
        self._can_abandon = can_abandon
        self._backoff = backoff
        self._metadata = metadata
        self._life = life
        self._log = log
        self._answered = answered
        self._lock = threading.Lock()
        self._in_flight = 0
        self._batch = ResultBatch(hold)

    def idle(self) -> bool:
        """Whether no completion is on the wire or being retried."""
        with self._lock:
            return self._in_flight == 0

    def wait_idle(self, until: float) -> None:
        """Wait until :meth:`idle`, or until the monotonic time ``until``."""
        while not self.idle() and time.monotonic() < until:
            time.sleep(0.01)

    def complete(
        self,
        kind: str,
        response: bytes,
        what: str,
        done: Done,
        group: str = "",
        last: bool = True,
    ) -> None:
        """Send a ``turn`` or ``activity`` completion; ``done(delivered, refused)`` follows.

        A completion with a ``group`` (an activity's orchestration) that is not the ``last``
        of it is held until the last one, for a short while at most (:mod:`._batch`); it
        counts as in flight meanwhile.
        """
        with self._lock:
            self._in_flight += 1
        if group:
            self._batch.add(group, lambda: self._send(kind, response, what, done), last)
        else:
            self._send(kind, response, what, done)

    def held(self, group: str) -> int:
        """How many completions of ``group`` (an orchestration instance) are held now."""
        return self._batch.held(group)

    def flush(self) -> None:
        """Send every held completion now, and hold none from now on (stopping)."""
        self._batch.flush()

    def _send(self, kind: str, response: bytes, what: str, done: Done) -> None:
        stub = self._stub()
        if stub is not None:
            try:
                future = self._completion(stub, kind, response)
            except Exception:  # noqa: BLE001 - fall back to the retrying path
                future = None
            if future is not None:
                future.add_done_callback(lambda f: self._sent(kind, response, what, f, done))
                return
        self._retry(kind, response, what, done)

    def abandon(self, kind: str, token: str, what: str) -> bool:
        """Give a ``turn`` or ``activity`` back (retrying); True if the sidecar took it.

        A sidecar that cannot take work back is not called: the item stays with it (Dapr's
        hands it out again once this worker's stream closes), and the log says so.
        """
        if not self._can_abandon:
            self._log(
                f"could not {what} (the sidecar has no abandon call: it keeps the work item"
                " and hands it out again once this worker's stream closes)"
            )
            return False
        if kind == "entity":
            return self.abandon_entity(token, what)
        if kind == "turn":
            turn = pb.AbandonOrchestrationTaskRequest(completionToken=token)
            return self.call(what, lambda s: s.abandon_orchestrator_work_item(turn, **self._opts()))
        activity = pb.AbandonActivityTaskRequest(completionToken=token)
        return self.call(what, lambda s: s.abandon_activity_work_item(activity, **self._opts()))

    def abandon_entity(self, token: str, what: str) -> bool:
        """Give an entity work item back (retrying); True if the sidecar took it."""
        request = pb.AbandonEntityTaskRequest(completionToken=token)
        return self.call(what, lambda s: s.abandon_entity_work_item(request, **self._opts()))

    def call(self, what: str, send: Callable[[SidecarStub], Any]) -> bool:
        """Make one call, retrying retryable failures and waits for a connection."""
        return self._call(what, send)[0]

    def _call(self, what: str, send: Callable[[SidecarStub], Any]) -> tuple[bool, str]:
        """``(delivered, refused)``, retried with back-off until delivered or refused.

        Retries go on while the worker reconnects; once it closes, a few more are made
        (:data:`CLOSING_DELAYS`), then the call is given up.
        """
        backoff = self._backoff()
        reason = "not connected"
        late = iter(CLOSING_DELAYS)
        while True:
            stub = self._stub()
            if stub is not None:
                try:
                    send(stub)
                    self._answered()
                    return True, ""
                except grpc.RpcError as err:
                    if not _retryable(err):
                        self._log(f"could not {what} ({refusal(err)})")
                        return False, refusal(err)
                    reason = error_name(err)
            if not self._life.wait_for(State.CLOSING, backoff.next_delay()):
                continue
            pause = next(late, None)
            if pause is None:
                self._log(f"could not {what} ({reason}; the worker stopped retrying)")
                return False, ""
            time.sleep(pause)

    def _opts(self) -> dict[str, Any]:
        return {"timeout": CALL_TIMEOUT, "metadata": self._metadata}

    def _completion(self, stub: SidecarStub, kind: str, response: bytes) -> Any:
        if kind == "entity":
            return stub.complete_entity_task(response, **self._opts())
        if kind == "turn":
            return stub.complete_orchestrator_task(response, **self._opts())
        return stub.complete_activity_task(response, **self._opts())

    def _sent(self, kind: str, response: bytes, what: str, future: Any, done: Done) -> None:
        try:
            err = future.exception()
        except BaseException as exc:  # noqa: BLE001 - a cancelled future
            err = exc
        if err is None:
            self._answered()
            self._finish(True, "", done)
            return
        if _retryable(err) and not self._life.reached(State.CLOSING):
            threading.Thread(
                target=self._retry,
                args=(kind, response, what, done),
                name="worker-retry",
                daemon=True,
            ).start()
            return
        self._log(f"could not {what} ({refusal(err)})")
        self._finish(False, "" if _retryable(err) else refusal(err), done)

    def _retry(self, kind: str, response: bytes, what: str, done: Done) -> None:
        wait = CALL_TIMEOUT + 5.0
        delivered, refused = False, ""
        try:
            delivered, refused = self._call(
                what, lambda s: self._completion(s, kind, response).result(wait)
            )
        except Exception as err:  # noqa: BLE001 - a closed channel, a cancelled future
            self._log(f"could not {what} ({type(err).__name__})")
        finally:
            self._finish(delivered, refused, done)

    def _finish(self, delivered: bool, refused: str, done: Done) -> None:
        try:
            done(delivered, refused)
        finally:
            with self._lock:
                self._in_flight -= 1
