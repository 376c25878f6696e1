"""Record real orchestration turns from the durabletask SDK.

This module runs the samples of :mod:`samples.orchestrations` through the SDK's own peers: its
in-memory sidecar (``durabletask.testing.InMemoryOrchestrationBackend``), its worker
(``TaskHubGrpcWorker``) and its client (``TaskHubGrpcClient``). A subclass of the sidecar wraps
two servicer methods to capture, for every orchestration turn, the exact
``OrchestratorRequest`` the worker received and the ``OrchestratorResponse`` it sent back.
Each pair is a golden test for a replay engine: replaying the request must give the response
(after dropping ``orchestrationTraceContext``, ``completionToken`` and stack-trace text, which
the SDK worker fills per process).

Library use::

    from samples.record import record_all
    recordings = record_all(scenarios=["single_activity", "durable_timer"])

Script use (writes ``<scenario>[-<role>]-turn<N>.b64``, ``...response.b64`` and
``INDEX.json``)::

    python -m samples.record [--out samples/requests] [--scenario NAME ...]

Two workers serve the sidecar: one with the SDK defaults runs every sample except the
split-timer ones, and one with ``maximum_timer_interval`` set to
:data:`samples.orchestrations.SPLIT_TIMER_MAXIMUM_INTERVAL` runs only those (work-item filters
keep them apart). Each :class:`Recording` says which setting applied to it.

Scenarios run concurrently; every wait is bounded, and a full run takes a few seconds.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import durabletask.internal.orchestrator_service_pb2 as pb
from durabletask import client as dt_client
from durabletask import worker as dt_worker
from durabletask.testing import InMemoryOrchestrationBackend

from samples import orchestrations as samples

DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "requests"
INDEX_NAME = "INDEX.json"

# Bounds on every wait: one scenario step, and the whole run.
STEP_TIMEOUT = 15.0
RUN_TIMEOUT = 50.0

_QUIET = logging.getLogger("samples.record.sdk")
_QUIET.setLevel(logging.CRITICAL)
_QUIET.propagate = False


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """One orchestration turn as the SDK worker saw it and answered it."""

    scenario: str
    orchestrator: str
    instance_id: str
    turn: int
    request: bytes
    response: bytes
    role: str = ""
    maximum_timer_interval_seconds: float | None = None

    @property
    def stem(self) -> str:
        """File name stem: ``<scenario>[-<role>]-turn<N>``."""
        middle = f"-{self.role}" if self.role else ""
        return f"{self.scenario}{middle}-turn{self.turn}"

    def parsed_request(self) -> pb.OrchestratorRequest:
        msg = pb.OrchestratorRequest()
        msg.ParseFromString(self.request)
        return msg

    def parsed_response(self) -> pb.OrchestratorResponse:
        msg = pb.OrchestratorResponse()
        msg.ParseFromString(self.response)
        return msg


@dataclass
class RecordingRun:
    """Everything one run produced: the turns, final statuses and timing."""

    recordings: list[Recording]
    # instance id -> final runtime status name ("COMPLETED", "FAILED", "TERMINATED", ...)
    final_status: dict[str, str]
    # instance id -> (scenario, role)
    instances: dict[str, tuple[str, str]]
    elapsed_seconds: float


class RecordingError(RuntimeError):
    """A scenario did not reach the state it expects."""


# ---------------------------------------------------------------------------------------------
# The recording sidecar
# ---------------------------------------------------------------------------------------------


@dataclass
class _Turn:
    instance_id: str
    request: bytes
    response: bytes


class RecordingBackend(InMemoryOrchestrationBackend):
    """The SDK's in-memory sidecar, recording every orchestrator request and response."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self._rec_cond = threading.Condition()
        self._dispatched: dict[str, tuple[str, bytes]] = {}
        self.turns: list[_Turn] = []
        self._turn_counts: dict[str, int] = {}

    def GetWorkItems(self, request: Any, context: Any) -> Iterator[pb.WorkItem]:  # noqa: N802
        for item in super().GetWorkItems(request, context):
            if item.HasField("orchestratorRequest"):
                orq = item.orchestratorRequest
                with self._rec_cond:
                    self._dispatched[item.completionToken] = (
                        orq.instanceId,
                        orq.SerializeToString(),
                    )
            yield item

    def CompleteOrchestratorTask(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self._rec_cond:
            dispatched = self._dispatched.pop(request.completionToken, None)
        result = super().CompleteOrchestratorTask(request, context)
        if dispatched is not None:
            instance_id, request_bytes = dispatched
            with self._rec_cond:
                self.turns.append(_Turn(instance_id, request_bytes, request.SerializeToString()))
                self._turn_counts[instance_id] = self._turn_counts.get(instance_id, 0) + 1
                self._rec_cond.notify_all()
        return result

    def turn_count(self, instance_id: str) -> int:
        with self._rec_cond:
            return self._turn_counts.get(instance_id, 0)

    def wait_for_turns(self, instance_id: str, count: int, timeout: float = STEP_TIMEOUT) -> None:
        """Block until ``instance_id`` has completed at least ``count`` turns."""
        deadline = time.monotonic() + timeout
        with self._rec_cond:
            while self._turn_counts.get(instance_id, 0) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = self._turn_counts.get(instance_id, 0)
                    raise RecordingError(
                        f"{instance_id}: waited {timeout:.0f}s for turn {count}, saw {seen}"
                    )
                self._rec_cond.wait(remaining)


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


class ScenarioContext:
    """What a scenario driver gets: the client, the recorder and its own instance ids."""

    def __init__(
        self,
        name: str,
        client: dt_client.TaskHubGrpcClient,
        backend: RecordingBackend,
        instances: dict[str, tuple[str, str]],
        lock: threading.Lock,
    ) -> None:
        self.name = name
        self.client = client
        self.backend = backend
        self._instances = instances
        self._lock = lock
        self.main_id = f"sample-{name}"

    def instance_id(self, role: str = "") -> str:
        return self.main_id if not role else f"{self.main_id}-{role}"

    def start(self, orchestrator: Callable[..., Any], input: Any = None, role: str = "") -> str:
        instance_id = self.instance_id(role)
        with self._lock:
            self._instances[instance_id] = (self.name, role)
        self.client.schedule_new_orchestration(orchestrator, input=input, instance_id=instance_id)
        return instance_id

    def wait_turns(self, instance_id: str, count: int) -> None:
        self.backend.wait_for_turns(instance_id, count)

    def wait_done(self, instance_id: str) -> dt_client.OrchestrationState:
        """Poll the client until the instance is terminal.

        The sidecar serves gRPC from ten threads and its ``WaitForInstanceCompletion`` holds
        one for the whole wait, so many concurrent blocking waits would starve the workers'
        completion calls. Short ``GetInstance`` polls do not.
        """
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            state = self.client.get_orchestration_state(instance_id)
            if state is not None and state.runtime_status in _TERMINAL:
                return state
            if time.monotonic() >= deadline:
                status = state.runtime_status.name if state else "missing"
                raise RecordingError(
                    f"{instance_id}: not finished after {STEP_TIMEOUT:.0f}s (status {status})"
                )
            time.sleep(0.05)


_TERMINAL = {
    dt_client.OrchestrationStatus.COMPLETED,
    dt_client.OrchestrationStatus.FAILED,
    dt_client.OrchestrationStatus.TERMINATED,
}


@dataclass(frozen=True)
class Scenario:
    """A named driver plus what it must produce.

    ``expected_status`` and ``expected_turns`` are keyed by role ("" is the main instance).
    A turn count of ``None`` means the count depends on timing (at least one turn).
    """

    name: str
    driver: Callable[[ScenarioContext], None]
    expected_status: dict[str, str]
    expected_turns: dict[str, int | None] = field(default_factory=dict)


def _run_to_completion(orchestrator: Callable[..., Any], input: Any = None) -> Callable:
    def drive(ctx: ScenarioContext) -> None:
        ctx.wait_done(ctx.start(orchestrator, input))

    return drive


def _drive_split_timer_or_event(ctx: ScenarioContext) -> None:
    iid = ctx.start(samples.split_timer_or_event)
    ctx.wait_turns(iid, 2)  # the first one-second chunk has fired
    ctx.client.raise_orchestration_event(iid, "cancel", data="operator cancelled")
    ctx.wait_done(iid)


def _drive_external_event(ctx: ScenarioContext) -> None:
    iid = ctx.start(samples.wait_for_approval)
    ctx.wait_turns(iid, 1)
    ctx.client.raise_orchestration_event(iid, "APPROVAL", data={"approved": True, "by": "ops"})
    ctx.wait_done(iid)


def _drive_buffered_event(ctx: ScenarioContext) -> None:
    iid = ctx.start(samples.buffered_event)
    ctx.wait_turns(iid, 1)  # now sleeping on its one-second timer
    ctx.client.raise_orchestration_event(iid, "ready", data="early bird")
    ctx.wait_turns(iid, 2)  # the event was delivered and buffered
    ctx.wait_done(iid)


def _drive_sub_orchestrations(ctx: ScenarioContext) -> None:
    ctx.wait_done(ctx.start(samples.parent_orchestration))
    for child in (f"{ctx.main_id}:0001", f"{ctx.main_id}-explicit-child"):
        ctx.wait_done(child)


def _drive_sub_orchestration_failure(ctx: ScenarioContext) -> None:
    ctx.wait_done(ctx.start(samples.parent_catches_child_failure))
    ctx.wait_done(f"{ctx.main_id}-failing-child")


def _drive_continue_as_new_with_events(ctx: ScenarioContext) -> None:
    iid = ctx.start(samples.continue_as_new_with_events)
    ctx.wait_turns(iid, 1)  # sleeping 1.5 s; every event below is buffered meanwhile
    for n in (1, 2, 3):
        ctx.client.raise_orchestration_event(iid, "item", data=f"item-{n}")
        ctx.wait_turns(iid, 1 + n)
    ctx.wait_done(iid)


def _drive_send_event(ctx: ScenarioContext) -> None:
    receiver = ctx.start(samples.event_receiver)
    ctx.wait_turns(receiver, 1)
    sender = ctx.start(samples.event_sender, input=receiver, role="sender")
    ctx.wait_done(sender)
    ctx.wait_done(receiver)


def _drive_suspend_resume(ctx: ScenarioContext) -> None:
    iid = ctx.start(samples.suspendable)
    ctx.wait_turns(iid, 1)
    ctx.client.suspend_orchestration(iid, reason="maintenance")
    ctx.wait_turns(iid, 2)  # the suspension has been processed: status SUSPENDED
    ctx.client.raise_orchestration_event(iid, "GO", data="go while suspended")
    time.sleep(0.2)  # the sidecar holds the event back while suspended
    ctx.client.resume_orchestration(iid, reason="maintenance over")
    ctx.wait_done(iid)


def _drive_terminate(ctx: ScenarioContext) -> None:
    iid = ctx.start(samples.terminable)
    ctx.wait_turns(iid, 1)
    ctx.client.terminate_orchestration(
        iid, output={"reason": "stopped by operator"}, recursive=False
    )
    ctx.wait_done(iid)


COMPLETED, FAILED, TERMINATED = "COMPLETED", "FAILED", "TERMINATED"

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "single_activity",
            _run_to_completion(samples.single_activity, "World"),
            {"": COMPLETED},
            {"": 2},
        ),
        Scenario(
            "activity_chain",
            _run_to_completion(samples.activity_chain),
            {"": COMPLETED},
            {"": 5},
        ),
        Scenario(
            "fan_out_fan_in",
            _run_to_completion(samples.fan_out_fan_in, 4),
            {"": COMPLETED},
            {"": None},
        ),
        Scenario(
            "durable_timer",
            _run_to_completion(samples.durable_timer),
            {"": COMPLETED},
            {"": 2},
        ),
        Scenario(
            "split_timer",
            _run_to_completion(samples.split_timer),
            {"": COMPLETED},
            {"": 4},
        ),
        Scenario(
            "split_timer_or_event",
            _drive_split_timer_or_event,
            {"": COMPLETED},
            {"": 3},
        ),
        Scenario("external_event", _drive_external_event, {"": COMPLETED}, {"": 2}),
        Scenario("buffered_event", _drive_buffered_event, {"": COMPLETED}, {"": 3}),
        Scenario(
            "race_activity_timer",
            _run_to_completion(samples.race_activity_timer),
            {"": COMPLETED},
            {"": 2},
        ),
        Scenario(
            "race_event_timer",
            _run_to_completion(samples.race_event_timer),
            {"": COMPLETED},
            {"": 2},
        ),
        Scenario(
            "sub_orchestrations",
            _drive_sub_orchestrations,
            {"": COMPLETED, "0001": COMPLETED, "explicit-child": COMPLETED},
            {"": 3, "0001": 2, "explicit-child": 2},
        ),
        Scenario(
            "sub_orchestration_failure",
            _drive_sub_orchestration_failure,
            {"": COMPLETED, "failing-child": FAILED},
            {"": 2, "failing-child": 2},
        ),
        Scenario(
            "retry_until_success",
            _run_to_completion(samples.retry_until_success),
            {"": COMPLETED},
            {"": 6},
        ),
        Scenario(
            "retry_exhausted",
            _run_to_completion(samples.retry_exhausted),
            {"": FAILED},
            {"": 6},
        ),
        Scenario(
            "caught_activity_failure",
            _run_to_completion(samples.caught_activity_failure),
            {"": COMPLETED},
            {"": 3},
        ),
        Scenario(
            "uncaught_failure",
            _run_to_completion(samples.uncaught_failure),
            {"": FAILED},
            {"": 2},
        ),
        Scenario(
            "continue_as_new_counter",
            _run_to_completion(samples.continue_as_new_counter, 0),
            {"": COMPLETED},
            {"": 8},
        ),
        Scenario(
            "continue_as_new_with_events",
            _drive_continue_as_new_with_events,
            {"": COMPLETED},
            {"": 7},
        ),
        Scenario(
            "custom_status",
            _run_to_completion(samples.custom_status_progress),
            {"": COMPLETED},
            {"": 3},
        ),
        Scenario(
            "send_event",
            _drive_send_event,
            {"": COMPLETED, "sender": COMPLETED},
            {"": 2, "sender": 2},
        ),
        Scenario("suspend_resume", _drive_suspend_resume, {"": COMPLETED}, {"": 4}),
        Scenario("terminate", _drive_terminate, {"": TERMINATED}, {"": 2}),
        Scenario(
            "new_uuid",
            _run_to_completion(samples.new_uuids),
            {"": COMPLETED},
            {"": 2},
        ),
        Scenario(
            "is_replaying",
            _run_to_completion(samples.replay_flags),
            {"": COMPLETED},
            {"": 4},
        ),
        Scenario(
            "plain_function",
            _run_to_completion(samples.plain_function, 21),
            {"": COMPLETED},
            {"": 1},
        ),
    ]
}


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_backend() -> tuple[RecordingBackend, int]:
    last_error: Exception | None = None
    for _ in range(5):
        port = _free_port()
        backend = RecordingBackend(port)
        try:
            backend.start()
            return backend, port
        except RuntimeError as err:  # the port was taken between probing and binding
            last_error = err
            backend.stop(grace=0)
    raise RecordingError(f"could not start the in-memory sidecar: {last_error}")


def _orchestrator_name(request: pb.OrchestratorRequest) -> str:
    for event in list(request.pastEvents) + list(request.newEvents):
        if event.HasField("executionStarted"):
            return event.executionStarted.name
    return ""


def _owner(instance_id: str, instances: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """Scenario and role of an instance; sub-orchestrations belong to their parent."""
    if instance_id in instances:
        return instances[instance_id]
    parents = [
        iid
        for iid in instances
        if instance_id.startswith(iid) and instance_id[len(iid) : len(iid) + 1] in (":", "-")
    ]
    if not parents:
        return ("unknown", instance_id)
    parent = max(parents, key=len)
    scenario, parent_role = instances[parent]
    suffix = instance_id[len(parent) :].strip(":-")
    role = f"{parent_role}-{suffix}" if parent_role else suffix
    return scenario, role


def _make_worker(
    host: str,
    orchestrators: list[Callable[..., Any]],
    activities: list[Callable[..., Any]],
    maximum_timer_interval: Any = dt_worker.DEFAULT_MAXIMUM_TIMER_INTERVAL,
) -> dt_worker.TaskHubGrpcWorker:
    worker = dt_worker.TaskHubGrpcWorker(
        host_address=host, logger=_QUIET, maximum_timer_interval=maximum_timer_interval
    )
    for fn in orchestrators:
        worker.add_orchestrator(fn)
    for fn in activities:
        worker.add_activity(fn)
    # Only accept what is registered here, so the two workers never take each other's work.
    worker.use_work_item_filters()
    return worker


def run_recording(scenarios: Iterable[str] | None = None) -> RecordingRun:
    """Run the chosen scenarios (all by default) and return every recorded turn."""
    names = list(SCENARIOS) if scenarios is None else list(dict.fromkeys(scenarios))
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario(s): {', '.join(unknown)}")

    samples.reset_state()
    started = time.monotonic()
    instances: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()
    split = list(samples.SPLIT_TIMER_ORCHESTRATORS)
    regular = [fn for fn in samples.ORCHESTRATORS if fn not in split]

    backend, port = _start_backend()
    host = f"127.0.0.1:{port}"
    workers = [
        _make_worker(host, regular, samples.ACTIVITIES),
        _make_worker(host, split, [], samples.SPLIT_TIMER_MAXIMUM_INTERVAL),
    ]
    client = dt_client.TaskHubGrpcClient(host_address=host, logger=_QUIET)
    errors: list[str] = []
    final_status: dict[str, str] = {}
    try:
        for worker in workers:
            worker.start()
        contexts = [ScenarioContext(n, client, backend, instances, lock) for n in names]
        with ThreadPoolExecutor(max_workers=max(1, len(contexts))) as pool:
            futures = {ctx.name: pool.submit(SCENARIOS[ctx.name].driver, ctx) for ctx in contexts}
            deadline = started + RUN_TIMEOUT
            for name, future in futures.items():
                try:
                    future.result(timeout=max(0.1, deadline - time.monotonic()))
                except Exception as err:  # noqa: BLE001 - reported below with the scenario
                    errors.append(f"{name}: {type(err).__name__}: {err}")
        seen = set(instances) | {t.instance_id for t in backend.turns}
        for iid in sorted(seen):
            state = client.get_orchestration_state(iid, fetch_payloads=False)
            if state is not None:
                final_status[iid] = state.runtime_status.name
    finally:
        for worker in workers:
            worker.stop()
        client.close()
        backend.stop(grace=0)

    recordings = _collect(backend.turns, instances, names)
    errors.extend(_check(names, recordings, final_status, instances))
    if errors:
        raise RecordingError("recording failed:\n  " + "\n  ".join(errors))
    return RecordingRun(
        recordings=recordings,
        final_status=final_status,
        instances={iid: _owner(iid, instances) for iid in final_status},
        elapsed_seconds=time.monotonic() - started,
    )


def _collect(
    turns: list[_Turn], instances: dict[str, tuple[str, str]], names: list[str]
) -> list[Recording]:
    split_names = {fn.__name__ for fn in samples.SPLIT_TIMER_ORCHESTRATORS}
    interval = samples.SPLIT_TIMER_MAXIMUM_INTERVAL.total_seconds()
    counters: dict[str, int] = {}
    recordings: list[Recording] = []
    for turn in turns:
        counters[turn.instance_id] = counters.get(turn.instance_id, 0) + 1
        scenario, role = _owner(turn.instance_id, instances)
        request = pb.OrchestratorRequest()
        request.ParseFromString(turn.request)
        orchestrator = _orchestrator_name(request)
        recordings.append(
            Recording(
                scenario=scenario,
                orchestrator=orchestrator,
                instance_id=turn.instance_id,
                turn=counters[turn.instance_id],
                request=turn.request,
                response=turn.response,
                role=role,
                maximum_timer_interval_seconds=interval if orchestrator in split_names else None,
            )
        )
    order = {name: i for i, name in enumerate(names)}
    recordings.sort(key=lambda r: (order.get(r.scenario, len(order)), r.role, r.turn))
    return recordings


def _check(
    names: list[str],
    recordings: list[Recording],
    final_status: dict[str, str],
    instances: dict[str, tuple[str, str]],
) -> list[str]:
    """Compare what happened with what each scenario expects."""
    problems: list[str] = []
    turns: dict[tuple[str, str], int] = {}
    for rec in recordings:
        turns[(rec.scenario, rec.role)] = turns.get((rec.scenario, rec.role), 0) + 1
    status_by_role = {_owner(iid, instances): status for iid, status in final_status.items()}
    for name in names:
        scenario = SCENARIOS[name]
        for role, expected in scenario.expected_status.items():
            actual = status_by_role.get((name, role))
            if actual != expected:
                problems.append(f"{name}[{role or 'main'}]: status {actual}, expected {expected}")
        for role, expected_turns in scenario.expected_turns.items():
            count = turns.get((name, role), 0)
            if count < 1 or (expected_turns is not None and count != expected_turns):
                want = expected_turns if expected_turns is not None else ">= 1"
                problems.append(f"{name}[{role or 'main'}]: {count} turns, expected {want}")
    return problems


def record_all(
    out_dir: Path | None = None, scenarios: Iterable[str] | None = None
) -> list[Recording]:
    """Record the chosen scenarios (all by default); write files when ``out_dir`` is given."""
    run = run_recording(scenarios)
    if out_dir is not None:
        write_recordings(run, Path(out_dir))
    return run.recordings


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _sdk_version() -> str:
    try:
        return metadata.version("durabletask")
    except metadata.PackageNotFoundError:  # pragma: no cover - the SDK is a dependency
        return "unknown"


_REPO_ROOT = Path(__file__).resolve().parent.parent
_TRACE_PATH = re.compile(r'File "([^"]+)"')


def _portable_path(match: re.Match[str]) -> str:
    path = match.group(1)
    try:
        return f'File "{Path(path).resolve().relative_to(_REPO_ROOT).as_posix()}"'
    except ValueError:
        pass
    if "site-packages/" in path:
        return f'File "<site-packages>/{path.split("site-packages/", 1)[1]}"'
    if path.startswith("/"):
        return f'File "<python>/{Path(path).name}"'
    return match.group(0)


def _scrub_stack_traces(message: Any) -> None:
    """Make file paths in every ``stackTrace`` relative, in place (nothing else changes)."""
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.name == "stackTrace":
            value.value = _TRACE_PATH.sub(_portable_path, value.value)
        elif hasattr(value, "ListFields"):
            _scrub_stack_traces(value)
        elif descriptor.message_type.GetOptions().map_entry:
            for item in value.values():
                if hasattr(item, "ListFields"):
                    _scrub_stack_traces(item)
        else:
            for item in value:
                _scrub_stack_traces(item)


def portable_bytes(data: bytes, message_type: type) -> bytes:
    """``data`` re-encoded with machine-specific paths removed from stack traces.

    Bytes without a traceback are returned unchanged, so most files hold exactly the
    bytes that went over the wire.
    """
    if b'File "' not in data:
        return data
    message = message_type()
    message.ParseFromString(data)
    _scrub_stack_traces(message)
    return message.SerializeToString()


def write_recordings(run: RecordingRun, out_dir: Path) -> Path:
    """Write one ``.b64`` file per request and response plus ``INDEX.json``; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in list(out_dir.glob("*.b64")) + [out_dir / INDEX_NAME]:
        if old.exists():
            old.unlink()
    entries = []
    for rec in run.recordings:
        request_file = f"{rec.stem}.b64"
        response_file = f"{rec.stem}.response.b64"
        request = portable_bytes(rec.request, pb.OrchestratorRequest)
        response = portable_bytes(rec.response, pb.OrchestratorResponse)
        (out_dir / request_file).write_text(base64.b64encode(request).decode("ascii") + "\n")
        (out_dir / response_file).write_text(base64.b64encode(response).decode("ascii") + "\n")
        entries.append(
            {
                "scenario": rec.scenario,
                "role": rec.role,
                "orchestrator": rec.orchestrator,
                "instance_id": rec.instance_id,
                "turn": rec.turn,
                "request": request_file,
                "response": response_file,
                "maximum_timer_interval_seconds": rec.maximum_timer_interval_seconds,
                "final_status": run.final_status.get(rec.instance_id),
            }
        )
    index = {
        "recorded_with": f"durabletask {_sdk_version()}",
        "note": (
            "Requests and responses exactly as exchanged between the SDK's in-memory sidecar "
            "and its TaskHubGrpcWorker. maximum_timer_interval_seconds null means the SDK "
            "default (3 days). File paths inside stack traces are made relative; every other "
            "byte is as recorded. Regenerate with: python -m samples.record"
        ),
        "scenarios": list(dict.fromkeys(rec.scenario for rec in run.recordings)),
        "recordings": entries,
    }
    path = out_dir / INDEX_NAME
    path.write_text(json.dumps(index, indent=2) + "\n")
    return path


def load_recordings(directory: Path = DEFAULT_OUT_DIR) -> list[Recording]:
    """Read recordings written by :func:`write_recordings` back from ``directory``."""
    index = json.loads((directory / INDEX_NAME).read_text())
    return [
        Recording(
            scenario=entry["scenario"],
            orchestrator=entry["orchestrator"],
            instance_id=entry["instance_id"],
            turn=entry["turn"],
            request=base64.b64decode((directory / entry["request"]).read_text().strip()),
            response=base64.b64decode((directory / entry["response"]).read_text().strip()),
            role=entry.get("role", ""),
            maximum_timer_interval_seconds=entry.get("maximum_timer_interval_seconds"),
        )
        for entry in index["recordings"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="output directory")
    parser.add_argument(
        "--scenario", action="append", dest="scenarios", help="record only this scenario"
    )
    args = parser.parse_args(argv)
    run = run_recording(args.scenarios)
    write_recordings(run, args.out)
    per_scenario: dict[str, int] = {}
    for rec in run.recordings:
        per_scenario[rec.scenario] = per_scenario.get(rec.scenario, 0) + 1
    for name, count in per_scenario.items():
        print(f"{name:32} {count:3} turns")
    print(
        f"{len(run.recordings)} turns across {len(per_scenario)} scenarios "
        f"in {run.elapsed_seconds:.1f}s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
