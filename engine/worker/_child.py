"""The user process: loads the APP once, then serves orchestrator turns and activities.

It runs in a child started with the ``spawn`` (or ``forkserver``) method, never ``fork``: the
worker process holds gRPC threads. The parent talks to it over one duplex pipe:

- child to parent, once (pickled): ``("ready", pid, entity names, capabilities, limits)`` or
  ``("fatal", message)``;
- parent to child, per job, one raw message (no pickling): the kind byte (``T`` turn,
  ``A`` activity, ``E`` entity batch), the completion token's length (4 bytes, big-endian),
  the token (UTF-8) and the request bytes (an entity batch's whole ``WorkItem``); or the
  single byte ``X`` to exit;
- child to parent, per job, one raw message: whether the response reports a failure (one
  byte, ``F`` or ``C``), the summary's length (4 bytes, big-endian), the summary (UTF-8) and
  the response bytes.

Standard output and error go to a second pipe the parent reads (it keeps the last lines for
crash reports). On ``SIGUSR1`` :mod:`faulthandler` writes every thread's stack to the report
file, which is how the parent learns where a turn that ran past its timeout was stuck, even
when it is stuck in C code.
"""

from __future__ import annotations

import asyncio
import faulthandler
import inspect
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from google.protobuf import wrappers_pb2

from engine import sdk
from engine.app_loader import UserApp, load_app
from engine.context import failure_from_exception
from engine.errors import InspectorError, WorkItemRejected
from engine.headless import replay_request
from engine.history import OrchestrationRequest
from engine.payloads import DEFAULT_CODEC, resolve_tokens, store_large
from engine.proto import orchestrator_service_pb2 as pb
from engine.worker._messages import (
    activity_summary,
    failed_activity_response,
    failed_turn_response,
    turn_failed,
    turn_summary,
)

_type_discovery: Any = None
if not sdk.is_dapr():
    try:  # the SDK's input-type discovery keeps decoded inputs equal to its worker's
        from durabletask.internal import type_discovery as _type_discovery
    except ImportError:  # pragma: no cover - older SDKs
        pass


def _activity_not_registered(name: str) -> Exception:
    found = getattr(sdk.module("worker"), "ActivityNotRegisteredError", ValueError)
    return found(f"Activity function named '{name}' was not registered!")  # type: ignore[no-any-return]


class JobRunner:
    """Runs one work item at a time against the loaded APP (the part tests can call directly).

    Args:
        app: The user's loaded APP.
        maximum_timer_interval: Longest single durable timer (longer ones are chunked).
    """

    def __init__(self, app: UserApp, maximum_timer_interval: timedelta | None) -> None:
        self.app = app
        self.maximum_timer_interval = maximum_timer_interval
        self._converter = app.options.data_converter or DEFAULT_CODEC.converter
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task = sdk.task_module()
        """The flavour's task module, looked up once (not per activity)."""
        self._input_types: dict[Any, Any] = {}
        """Each activity's declared input type, discovered once (its signature is walked)."""

    def turn(
        self, data: bytes, token: str
    ) -> tuple[bytes, str, bool] | tuple[bytes, str, bool, bool, frozenset[int]]:
        """Answer one ``OrchestratorRequest``: the response bytes, a summary, whether it failed,
        then whether the app's versioning rejects it (``True``: no response) and the task ids
        a ``when_all`` the code waits on still needs (:attr:`ReplayOutcome.when_all_needs`)."""
        request = pb.OrchestratorRequest.FromString(data)
        store = self.app.options.payload_store
        try:
            if store is not None:
                resolve_tokens(request, store)
            outcome = replay_request(
                OrchestrationRequest.from_proto(request),
                self.app,
                completion_token=token,
                maximum_timer_interval=self.maximum_timer_interval,
            )
            response = outcome.response
            if store is not None:
                store_large(response, store, request.instanceId)
        except WorkItemRejected as rejected:
            return b"", str(rejected), False, True, frozenset()
        except Exception as ex:  # noqa: BLE001 - any engine failure fails the orchestration
            response = failed_turn_response(request.instanceId, token, failure_from_exception(ex))
            return response.SerializeToString(), turn_summary(response), turn_failed(response)
        summary, failed = turn_summary(response), turn_failed(response)
        return response.SerializeToString(), summary, failed, False, outcome.when_all_needs

    def activity(self, data: bytes, token: str) -> tuple[bytes, str, bool]:
        """Run one ``ActivityRequest``: the response bytes, a summary, whether it failed."""
        task = self._task
        request = pb.ActivityRequest.FromString(data)
        instance_id = request.orchestrationInstance.instanceId
        store = self.app.options.payload_store
        try:
            if store is not None:
                resolve_tokens(request, store)
            fn = self.app.activity(request.name)
            if fn is None:
                raise _activity_not_registered(request.name)
            encoded = request.input.value if request.HasField("input") else None
            input_type = None
            if encoded and _type_discovery is not None:
                input_type = self._input_type(fn)
            value = self._converter.deserialize(encoded, input_type)
            output = fn(task.ActivityContext(instance_id, request.taskId), value)
            if inspect.isawaitable(output):
                output = self._run_async(output)
            result = self._converter.serialize(output)
            response = pb.ActivityResponse(
                instanceId=instance_id, taskId=request.taskId, completionToken=token
            )
            if result is not None:
                response.result.CopyFrom(wrappers_pb2.StringValue(value=result))
            if store is not None:
                store_large(response, store, instance_id)
        except Exception as ex:  # noqa: BLE001 - the failure is the activity's answer
            provider = self.app.options.exception_properties_provider
            details = failure_from_exception(ex, provider=provider)
            response = failed_activity_response(request, token, details)
        failed = response.HasField("failureDetails")
        return response.SerializeToString(), activity_summary(response), failed

    def _input_type(self, fn: Any) -> Any:
        """``fn``'s input type as the SDK discovers it for the app's converter (kept per fn)."""
        try:
            return self._input_types[fn]
        except KeyError:
            found = self._input_types[fn] = _type_discovery.activity_input_type(fn, self._converter)
            return found
        except TypeError:  # an unhashable callable
            return _type_discovery.activity_input_type(fn, self._converter)

    def entity(self, data: bytes, token: str) -> tuple[bytes, str, bool]:
        """Run one entity work item (either shape): the result bytes, a summary, any failed."""
        from engine.entity_batch import batch_summary, run_batch

        result = run_batch(self.app.entities, pb.WorkItem.FromString(data)).result
        return (result.SerializeToString(), *batch_summary(result))

    def _run_async(self, awaitable: Any) -> Any:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(awaitable)


def _exit_with_parent() -> None:
    """Exit when the worker is gone, even while user code is stuck (a daemon thread watches).

    ``PR_SET_PDEATHSIG`` is no use here: it fires when the *thread* that started the child
    exits, and the worker starts children from short-lived threads too.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _redirect_output(fd: int) -> None:
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = io.TextIOWrapper(
        os.fdopen(1, "wb", buffering=0, closefd=False), line_buffering=True, write_through=True
    )
    sys.stderr = io.TextIOWrapper(
        os.fdopen(2, "wb", buffering=0, closefd=False), line_buffering=True, write_through=True
    )


def child_main(
    app_spec: str,
    conn: Any,
    output: Any,
    report_path: str,
    timer_interval_seconds: float | str | None,
) -> None:
    """Entry point of a user process (run by ``multiprocessing`` with ``spawn``).

    Args:
        app_spec: The APP to load (file path or module name).
        conn: Duplex ``multiprocessing`` connection to the worker.
        output: Write end of the pipe standard output and error go to.
        report_path: File that ``SIGUSR1`` dumps every thread's stack into.
        timer_interval_seconds: ``maximum_timer_interval`` in seconds, None for no chunking,
            or ``"app"`` for the app's own.
    """
    _exit_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _redirect_output(os.dup(output.fileno()))
    output.close()
    report = open(report_path, "w")  # noqa: SIM115 - lives as long as the process
    faulthandler.register(signal.SIGUSR1, file=report, all_threads=True, chain=False)
    try:
        app = load_app(app_spec)
    except InspectorError as exc:
        conn.send(("fatal", str(exc)))
        return
    interval: timedelta | None
    if isinstance(timer_interval_seconds, str):
        interval = app.options.maximum_timer_interval
    elif timer_interval_seconds is None:
        interval = None
    else:
        interval = timedelta(seconds=timer_interval_seconds)
    runner = JobRunner(app, interval)
    options = app.options
    ready = (sorted(app.entities), options.worker_capabilities(), options.concurrency_limits())
    conn.send(("ready", os.getpid(), *ready))
    jobs = {TURN: runner.turn, ACTIVITY: runner.activity, ENTITY: runner.entity}
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        run = jobs.get(message[:1])
        if run is None:
            return
        size = int.from_bytes(message[1:5], "big")
        token = message[5 : 5 + size].decode()
        conn.send_bytes(encode_answer(*run(message[5 + size :], token)))


TURN = b"T"
ACTIVITY = b"A"
ENTITY = b"E"
_KIND_BYTES = {"turn": TURN, "activity": ACTIVITY, "entity": ENTITY}
EXIT = b"X"
FAILED = b"F"
COMPLETED = b"C"
REJECTED = b"R"


def encode_job(kind: str, data: bytes, token: str) -> bytes:
    """The raw message that hands one work item to a user process."""
    raw = token.encode()
    return _KIND_BYTES[kind] + len(raw).to_bytes(4, "big") + raw + data


def encode_answer(
    response: bytes,
    summary: str,
    failed: bool,
    rejected: bool = False,
    needs: Collection[int] = (),
) -> bytes:
    """The raw message that answers one job (``rejected``: no response, give the item back;
    ``needs``: the task ids a ``when_all`` the turn's code waits on still needs)."""
    note = summary.encode()
    kind = REJECTED if rejected else FAILED if failed else COMPLETED
    wanted = b"".join(task_id.to_bytes(4, "big") for task_id in needs)
    head = kind + len(note).to_bytes(4, "big") + note + len(needs).to_bytes(4, "big")
    return head + wanted + response


def decode_answer(message: bytes) -> tuple[bytes, str, bool, bool, frozenset[int]]:
    """A user process's raw answer: the response bytes, the summary, whether it failed,
    whether the app rejected the work item, and the task ids its ``when_all`` still needs."""
    size = int.from_bytes(message[1:5], "big")
    kind = message[:1]
    at = 5 + size
    count = int.from_bytes(message[at : at + 4], "big")
    start = at + 4
    end = start + 4 * count
    needs = frozenset(int.from_bytes(message[i : i + 4], "big") for i in range(start, end, 4))
    summary = message[5:at].decode()
    return message[end:], summary, kind == FAILED, kind == REJECTED, needs
