"""Forwarding: every call that reaches the tap goes to the sidecar as raw bytes, by its path.

Known ``TaskHubSidecarService`` methods are forwarded with their own shape (unary or server
streaming); a path we do not know is forwarded as a bidirectional stream, which carries any
of the four shapes on the wire. Metadata, deadlines, cancellation, status codes, details and
response metadata pass through as the peers gave them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from engine.proto import orchestrator_service_pb2 as pb
from engine.tap._hold import HeldCompletions

SERVICE = "/TaskHubSidecarService/"
WORK_ITEMS = SERVICE + "GetWorkItems"
_SERVER_STREAMING = frozenset({WORK_ITEMS, SERVICE + "StreamInstanceHistory"})
_KNOWN_UNARY = frozenset(
    SERVICE + name
    for name in (
        "Hello StartInstance GetInstance RewindInstance RestartInstance WaitForInstanceStart "
        "WaitForInstanceCompletion RaiseEvent TerminateInstance SuspendInstance ResumeInstance "
        "QueryInstances ListInstanceIds PurgeInstances CompleteActivityTask "
        "CompleteOrchestratorTask CompleteEntityTask CreateTaskHub DeleteTaskHub SignalEntity "
        "GetEntity QueryEntities CleanEntityStorage AbandonTaskActivityWorkItem "
        "AbandonTaskOrchestratorWorkItem AbandonTaskEntityWorkItem "
        "SkipGracefulOrchestrationTerminations"
    ).split()
)
COMPLETIONS = frozenset(
    SERVICE + name
    for name in (
        "CompleteOrchestratorTask",
        "CompleteActivityTask",
        "CompleteEntityTask",
        "AbandonTaskOrchestratorWorkItem",
        "AbandonTaskActivityWorkItem",
        "AbandonTaskEntityWorkItem",
    )
)
COMPLETE_TURN = SERVICE + "CompleteOrchestratorTask"
ABANDON_TURN = SERVICE + "AbandonTaskOrchestratorWorkItem"
HELD_NOTE = "abandoned from the inspector while held"
_LONG_POLLS = frozenset({SERVICE + "WaitForInstanceStart", SERVICE + "WaitForInstanceCompletion"})
# Set by the transport itself on each hop; forwarding them would duplicate or conflict.
_HOP_HEADERS = frozenset({"user-agent", "grpc-accept-encoding", "grpc-encoding", "te"})

OnItem = Callable[[bytes, str], None]
"""Called with each ``GetWorkItems`` message (before it is forwarded) and the worker's peer."""
OnCompletion = Callable[..., None]
"""Called after a completion or abandon: path, request, status code, details, worker's peer
(and a note when the tap abandoned it itself)."""
OnHold = Callable[[bytes, str], "str | None"]
"""Asked about each orchestrator completion (request, worker's peer) before it is forwarded:
the completion token if it is now held in :attr:`Forwarder.held`, else None."""


class _Stream:
    """One forwarded ``GetWorkItems`` stream, which the tap may end on stop."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.ending = False

    def end(self) -> None:
        self.ending = True
        self.call.cancel()


class Forwarder(grpc.GenericRpcHandler):
    """The tap's only handler: answers every method path by forwarding it.

    Args:
        channel: The channel to the sidecar.
        headers: Metadata added to every forwarded call (the sidecar's credentials).
        on_item: See :data:`OnItem`.
        on_completion: See :data:`OnCompletion`.
        on_hold: See :data:`OnHold` (None: nothing is ever held).
    """

    def __init__(
        self,
        channel: grpc.Channel,
        headers: tuple[tuple[str, str], ...],
        on_item: OnItem,
        on_completion: OnCompletion,
        on_hold: OnHold | None = None,
    ) -> None:
        self._channel = channel
        self._on_hold = on_hold
        self.held = HeldCompletions()
        """The orchestrator completions held right now."""
        self._abandon_turn = channel.unary_unary(ABANDON_TURN)
        self._headers = headers
        self._on_item = on_item
        self._on_completion = on_completion
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}
        self._lock = threading.Lock()
        self._streams: set[_Stream] = set()
        self.refuse_streams = False
        """Set on stop: new ``GetWorkItems`` calls are refused with UNAVAILABLE."""

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        path: str = handler_call_details.method  # type: ignore[attr-defined]
        handler = self._handlers.get(path)
        if handler is None:
            handler = self._make(path)
            with self._lock:
                if len(self._handlers) < 1000:  # unknown paths are caller-chosen: stay bounded
                    self._handlers[path] = handler
        return handler

    def _make(self, path: str) -> grpc.RpcMethodHandler:
        if path in _SERVER_STREAMING:
            return grpc.unary_stream_rpc_method_handler(self._unary_stream(path))
        if path in _KNOWN_UNARY:
            return grpc.unary_unary_rpc_method_handler(self._unary_unary(path))
        return grpc.stream_stream_rpc_method_handler(self._stream_stream(path))

    def end_streams(self) -> None:
        """End every forwarded ``GetWorkItems`` stream (the workers see a clean end)."""
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.end()

    def _metadata(self, context: grpc.ServicerContext) -> list[tuple[str, Any]]:
        metadata = [
            (key, value)
            for key, value in context.invocation_metadata()
            if key not in _HOP_HEADERS and not key.startswith(":")
        ]
        metadata.extend(self._headers)
        return metadata

    def _unary_unary(self, path: str) -> Callable[[bytes, grpc.ServicerContext], bytes]:
        method = self._channel.unary_unary(path)
        completion = path in COMPLETIONS
        holdable = path == COMPLETE_TURN
        # A blocking call costs a third of a cancellable future (no hop through the channel's
        # thread); only the long polls need the caller's cancellation passed on mid-call.
        cancellable = path in _LONG_POLLS

        def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
            if holdable and self._on_hold is not None:
                token = self._on_hold(request, context.peer())
                if token is not None:
                    return self._forward_held(method, token, request, context)
            try:
                if cancellable:
                    call = method.future(
                        request, timeout=_timeout(context), metadata=self._metadata(context)
                    )
                    context.add_callback(call.cancel)
                    response: bytes = call.result()
                else:
                    response, call = method.with_call(
                        request, timeout=_timeout(context), metadata=self._metadata(context)
                    )
            except grpc.RpcError as err:
                if completion:
                    self._report(path, request, err, context)
                _relay_failure(err, context)
                raise  # not reached: _relay_failure aborts
            except grpc.FutureCancelledError:
                _relay_cancel(context)
                raise
            _relay_metadata(call, context)
            if completion:
                self._report(path, request, call, context)
            return response

        return handle

    def _forward_held(
        self, method: Any, token: str, request: bytes, context: grpc.ServicerContext
    ) -> bytes:
        """Wait for the verdict on a held turn, then forward it or abandon the work item.

        The worker's call gets the sidecar's answer either way (the answers to a completion
        and to an abandon are both empty messages). The hold took the caller's time, so the
        call to the sidecar has no deadline of its own.
        """
        path, note = COMPLETE_TURN, ""
        try:
            if not self.held.wait(token):
                path, method, note = ABANDON_TURN, self._abandon_turn, HELD_NOTE
                request = pb.AbandonOrchestrationTaskRequest(
                    completionToken=token
                ).SerializeToString()
            try:
                response, call = method.with_call(request, metadata=self._metadata(context))
            except grpc.RpcError as err:
                self._report(path, request, err, context, note)
                _relay_failure(err, context)
                raise  # not reached: _relay_failure aborts
            self._report(path, request, call, context, note)
        finally:
            self.held.forwarded(token)
        _relay_metadata(call, context)
        return response  # type: ignore[no-any-return]

    def _report(self, path: str, request: bytes, call: Any, context: Any, note: str = "") -> None:
        details = call.details() or ""
        self._on_completion(path, request, call.code(), details, context.peer(), note)

    def _unary_stream(self, path: str) -> Callable[[bytes, grpc.ServicerContext], Iterator[bytes]]:
        method = self._channel.unary_stream(path)
        work_items = path == WORK_ITEMS

        def handle(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
            if work_items and self.refuse_streams:
                context.abort(grpc.StatusCode.UNAVAILABLE, "the tap is stopping")
            call = method(request, timeout=_timeout(context), metadata=self._metadata(context))
            context.add_callback(call.cancel)
            if not work_items:
                yield from _relay_stream(call, context)
                return
            stream = _Stream(call)
            with self._lock:
                self._streams.add(stream)
            peer = context.peer()
            try:
                for message in _relay_stream(call, context, stream):
                    self._on_item(message, peer)
                    yield message
            finally:
                with self._lock:
                    self._streams.discard(stream)

        return handle

    def _stream_stream(
        self, path: str
    ) -> Callable[[Iterator[bytes], grpc.ServicerContext], Iterator[bytes]]:
        method = self._channel.stream_stream(path)

        def handle(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
            call = method(requests, timeout=_timeout(context), metadata=self._metadata(context))
            context.add_callback(call.cancel)
            yield from _relay_stream(call, context)

        return handle


def _relay_stream(
    call: Any, context: grpc.ServicerContext, stream: _Stream | None = None
) -> Iterator[bytes]:
    sent_headers = False
    try:
        for message in call:
            if not sent_headers:
                sent_headers = True
                _send_headers(call, context)
            yield message
    except grpc.RpcError:
        if stream is not None and stream.ending:
            return
        if not sent_headers:
            _send_headers(call, context)
        _relay_failure(call, context, headers=False)
    if not sent_headers:
        _send_headers(call, context)
    trailing = call.trailing_metadata()
    if trailing:
        context.set_trailing_metadata(trailing)


def _timeout(context: grpc.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    # Without a deadline gRPC reports about 292 years, which no channel accepts back.
    if remaining is None or remaining > 1e8:
        return None
    return max(0.0, remaining)


def _send_headers(call: Any, context: grpc.ServicerContext) -> None:
    initial = call.initial_metadata()
    if initial:
        context.send_initial_metadata(initial)


def _relay_metadata(call: Any, context: grpc.ServicerContext) -> None:
    initial = call.initial_metadata()
    if initial:
        context.send_initial_metadata(initial)
    trailing = call.trailing_metadata()
    if trailing:
        context.set_trailing_metadata(trailing)


def _relay_failure(call: Any, context: grpc.ServicerContext, headers: bool = True) -> None:
    if not context.is_active():
        context.abort(grpc.StatusCode.CANCELLED, "cancelled by the caller")
    if headers:
        _send_headers(call, context)
    trailing = call.trailing_metadata()
    if trailing:
        context.set_trailing_metadata(trailing)
    code = call.code()
    if code is None or code == grpc.StatusCode.OK:
        code = grpc.StatusCode.UNKNOWN
    context.abort(code, call.details() or "")


def _relay_cancel(context: grpc.ServicerContext) -> None:
    context.abort(grpc.StatusCode.CANCELLED, "cancelled by the caller")
