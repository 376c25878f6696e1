"""Orchestrations per second through the SDK's in-memory sidecar: the SDK's worker vs ours.

Each run starts a fresh ``durabletask.testing.InMemoryOrchestrationBackend`` in this process,
starts one worker as a separate process (the SDK's ``TaskHubGrpcWorker`` with the samples
registered, or ``inspector worker --app samples.orchestrations``), warms it up, then schedules
N ``fan_out_fan_in`` orchestrations (5 ``square`` activities at once, then ``add_numbers``)
with the SDK's client and waits for all of them. Both workers run in one invocation, side by
side, under the same sidecar settings and warm-up; each round runs both, alternating which
goes first, and the median and the best of the rounds are reported::

    python bench/bench_worker.py [--count 500] [--rounds 3] [--baseline DIR] [--floor]

``--floor`` adds a third worker that does the least a Python gRPC worker can do (canned
answers for ``fan_out_fan_in``, no user code, no isolation, no log): the most this sidecar
and client allow any worker, measured in the same rounds.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samples import orchestrations as samples  # noqa: E402

FAN_OUT = 5
TIMEOUT = 300.0
WARMUP = 20
SETTLE_SECONDS = 3.0

_SDK_WORKER = """
import logging, signal, sys, threading
from durabletask import worker
from samples import orchestrations as samples
quiet = logging.getLogger("bench.sdk"); quiet.setLevel(logging.CRITICAL); quiet.propagate = False
w = worker.TaskHubGrpcWorker(host_address=sys.argv[1], logger=quiet)
samples.register(w)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
w.start()
while not done.wait(0.5):
    pass
w.stop()
"""

_CANNED = """
import json, os, signal, sys
from durabletask.internal import orchestrator_service_pb2 as pb
from google.protobuf import wrappers_pb2


def value(text):
    return wrappers_pb2.StringValue(value=text)


def turn(req):
    results = {}
    scheduled = 0
    for e in (*req.pastEvents, *req.newEvents):
        if e.HasField("taskScheduled"):
            scheduled += 1
        elif e.HasField("taskCompleted"):
            results[e.taskCompleted.taskScheduledId] = json.loads(e.taskCompleted.result.value)
    squares = [results.get(i + 1) for i in range(5)]
    actions = []
    if scheduled == 0:
        for i in range(5):
            task = pb.ScheduleTaskAction(name="square", input=value(str(i + 1)))
            actions.append(pb.OrchestratorAction(id=i + 1, scheduleTask=task))
    elif scheduled == 5 and len(results) == 5:
        task = pb.ScheduleTaskAction(name="add_numbers", input=value(json.dumps(squares)))
        actions.append(pb.OrchestratorAction(id=6, scheduleTask=task))
    elif 6 in results:
        done = pb.CompleteOrchestrationAction(
            orchestrationStatus=pb.ORCHESTRATION_STATUS_COMPLETED,
            result=value(json.dumps({"squares": squares, "sum": results[6]})),
        )
        actions.append(pb.OrchestratorAction(id=7, completeOrchestration=done))
    return pb.OrchestratorResponse(instanceId=req.instanceId, actions=actions)


def activity(req):
    given = json.loads(req.input.value)
    out = json.dumps(given * given if req.name == "square" else sum(given))
    instance = req.orchestrationInstance.instanceId
    return pb.ActivityResponse(instanceId=instance, taskId=req.taskId, result=value(out))


def answer(item):
    if item.HasField("orchestratorRequest"):
        response = turn(item.orchestratorRequest)
    else:
        response = activity(item.activityRequest)
    response.completionToken = item.completionToken
    return response
"""
"""Canned answers for ``fan_out_fan_in`` (the output the samples give), for the floor workers."""

_SENDING = """
import grpc
from durabletask.internal import orchestrator_service_pb2_grpc as stubs

channel = grpc.insecure_channel(sys.argv[1])
stub = stubs.TaskHubSidecarServiceStub(channel)
stream = stub.GetWorkItems(pb.GetWorkItemsRequest())
signal.signal(signal.SIGTERM, lambda *a: stream.cancel())
held = {}
pending = set()  # a future dropped before it is done cancels its call


def call(future):
    pending.add(future)
    future.add_done_callback(pending.discard)


def complete(response):
    if isinstance(response, pb.OrchestratorResponse):
        call(stub.CompleteOrchestratorTask.future(response))
        return
    # The five squares of one orchestration are sent together (one turn for all).
    group = held.setdefault(response.instanceId, []) if response.taskId <= 5 else []
    group.append(response)
    if len(group) == 5 or response.taskId > 5:
        held.pop(response.instanceId, None)
        for each in group:
            call(stub.CompleteActivityTask.future(each))
"""

_FLOOR_WORKER = (
    _CANNED
    + _SENDING
    + """
# The least a Python gRPC worker can do: answers computed on the stream's thread; no user
# code, no isolation, no log.
try:
    for item in stream:
        if item.HasField("orchestratorRequest") or item.HasField("activityRequest"):
            complete(answer(item))
except grpc.RpcError:
    pass
"""
)
"""``--floor``: what the sidecar and the client allow at most (see docs/worker.md)."""

_PIPES_CHILD = (
    _CANNED
    + """
buffer = b""
while True:
    while len(buffer) < 4 or len(buffer) < 4 + int.from_bytes(buffer[:4], "big"):
        chunk = os.read(0, 65536)
        if not chunk:
            sys.exit(0)
        buffer += chunk
    size = int.from_bytes(buffer[:4], "big")
    item, buffer = pb.WorkItem.FromString(buffer[4 : 4 + size]), buffer[4 + size :]
    response = answer(item)
    kind = b"T" if isinstance(response, pb.OrchestratorResponse) else b"A"
    out = kind + response.SerializeToString()
    os.write(1, len(out).to_bytes(4, "big") + out)
"""
)

_PIPES_WORKER = (
    _CANNED
    + _SENDING
    + f"CHILD = {_PIPES_CHILD!r}\n"
    + """
# The floor with isolation: each work item is written to one of two child processes' pipes
# (round robin, without waiting), which compute the answers; one thread reads every pipe and
# sends the completions. No timeouts, no crash handling, no log.
import select, subprocess, threading

kids = [
    subprocess.Popen([sys.executable, "-c", CHILD], stdin=-1, stdout=-1, bufsize=0)
    for _ in range(2)
]


def collect():
    poller = select.poll()
    buffers = {}
    for kid in kids:
        poller.register(kid.stdout.fileno(), select.POLLIN)
        buffers[kid.stdout.fileno()] = b""
    while True:
        for fd, _ in poller.poll():
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            buffer = buffers[fd] + chunk
            while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[:4], "big"):
                size = int.from_bytes(buffer[:4], "big")
                frame, buffer = buffer[4 : 4 + size], buffer[4 + size :]
                kind = pb.OrchestratorResponse if frame[:1] == b"T" else pb.ActivityResponse
                complete(kind.FromString(frame[1:]))
            buffers[fd] = buffer


threading.Thread(target=collect, daemon=True).start()
sent = 0
try:
    for item in stream:
        if item.HasField("orchestratorRequest") or item.HasField("activityRequest"):
            data = item.SerializeToString()
            os.write(kids[sent % 2].stdin.fileno(), len(data).to_bytes(4, "big") + data)
            sent += 1
except grpc.RpcError:
    pass
for kid in kids:
    kid.kill()
    kid.wait()
"""
)
"""``--floor``, second part: the floor with user processes and pipes (see docs/worker.md)."""

_QUIET = logging.getLogger("bench.client")
_QUIET.setLevel(logging.CRITICAL)
_QUIET.propagate = False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


OURS_EXTRA: list[str] = []
"""``--ours-args``: extra options for ``inspector worker`` (to try other pool sizes)."""

BASELINE: Path | None = None
"""``--baseline DIR``: another checkout whose ``inspector worker`` runs in the same rounds."""

PROFILE_DIR: Path | None = None
"""``--profile DIR``: run ours under :mod:`bench.profile_worker`, writing profiles to DIR."""


def _worker_command(kind: str, address: str) -> list[str]:
    if kind == "sdk":
        return [sys.executable, "-c", _SDK_WORKER, address]
    if kind == "floor":
        return [sys.executable, "-c", _FLOOR_WORKER, address]
    if kind == "floor-pipes":
        return [sys.executable, "-c", _PIPES_WORKER, address]
    if PROFILE_DIR is not None:
        code = "import sys; from bench.profile_worker import run_worker; run_worker(sys.argv[1:])"
        return [sys.executable, "-c", code, address, "--app", "samples.orchestrations", *OURS_EXTRA]
    return [
        sys.executable,
        "-m",
        "inspector",
        "worker",
        address,
        "--app",
        "samples.orchestrations",
        *OURS_EXTRA,
    ]


def _wait_all(client: dt_client.TaskHubGrpcClient, ids: list[str]) -> dict[str, int]:
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + TIMEOUT
    for iid in ids:
        state = client.wait_for_orchestration_completion(
            iid, timeout=max(1, int(deadline - time.monotonic()))
        )
        name = state.runtime_status.name if state is not None else "MISSING"
        statuses[name] = statuses.get(name, 0) + 1
    return statuses


_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int) -> tuple[float, float]:
    """CPU seconds (user + system) of ``root`` itself and of its live descendants."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / _TICK
    below = 0.0
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == pid]
        below += sum(cpu.get(child, 0.0) for child in kids)
        frontier += kids
    return cpu.get(root, 0.0), below


class Run(NamedTuple):
    """One measured run: throughput and CPU seconds per orchestration in each part."""

    rate: float
    worker_cpu: float
    """The worker process's own CPU per orchestration (ms)."""
    user_cpu: float
    """Its child processes' CPU per orchestration (ms): ours runs user code there."""
    sidecar_cpu: float
    """This process's CPU per orchestration (ms): the in-memory sidecar and the client."""
    turns: float
    """Orchestrator turns completed per orchestration (each carries the whole history)."""


def _count_turns(backend: InMemoryOrchestrationBackend) -> list[int]:
    """Count the sidecar's ``CompleteOrchestratorTask`` calls (set before it starts serving)."""
    counter = [0]
    complete = backend.CompleteOrchestratorTask

    def counted(request: Any, context: Any) -> Any:
        counter[0] += 1
        return complete(request, context)

    backend.CompleteOrchestratorTask = counted  # type: ignore[method-assign]
    return counter


DIAGNOSE = False
"""``--diagnose``: after each run, how the sidecar saw the activity results arrive."""


class _Arrivals:
    """When each activity result reached the sidecar, and how many orchestrations were queued
    ahead of its instance then (read from the in-memory sidecar, which is not changed)."""

    def __init__(self, backend: InMemoryOrchestrationBackend) -> None:
        self.times: dict[str, list[float]] = {}
        self.queued: list[int] = []
        complete = backend.CompleteActivityTask

        def watched(request: Any, context: Any) -> Any:
            if request.taskId <= FAN_OUT:
                self.times.setdefault(request.instanceId, []).append(time.perf_counter())
                self.queued.append(len(getattr(backend, "_orchestration_queue", ())))
            return complete(request, context)

        backend.CompleteActivityTask = watched  # type: ignore[method-assign]

    def summary(self) -> str:
        spreads = sorted(
            (max(t) - min(t)) * 1000.0 for t in self.times.values() if len(t) == FAN_OUT
        )
        queued = sorted(self.queued)
        if not spreads or not queued:
            return "no fan-out results seen"

        def pct(values: list[float] | list[int], share: float) -> float:
            return values[int(share * (len(values) - 1))]

        return (
            f"the {FAN_OUT} results of a fan-out reached the sidecar within"
            f" {pct(spreads, 0.5):.1f} ms (p90 {pct(spreads, 0.9):.1f});"
            f" orchestrations queued at the sidecar when one arrived: median"
            f" {pct(queued, 0.5):.0f}, p90 {pct(queued, 0.9):.0f}"
        )


def run_once(kind: str, count: int) -> Run:
    """Push ``count`` orchestrations through a fresh sidecar with one worker."""
    port = _free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    turns = _count_turns(backend)
    arrivals = _Arrivals(backend) if DIAGNOSE else None
    backend.start()
    address = f"127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    tree = BASELINE if kind == "baseline" and BASELINE is not None else ROOT
    env["PYTHONPATH"] = str(tree) + os.pathsep + os.environ.get("PYTHONPATH", "")
    if PROFILE_DIR is not None:
        env["INSPECTOR_BENCH_PROFILE_DIR"] = str(PROFILE_DIR)
    proc = subprocess.Popen(
        _worker_command(kind, address),
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=_QUIET)
    try:
        warm = [
            client.schedule_new_orchestration(samples.fan_out_fan_in, input=FAN_OUT)
            for _ in range(WARMUP)
        ]
        _wait_all(client, warm)
        time.sleep(SETTLE_SECONDS)  # both workers measured in steady state (all processes up)
        turns_before = turns[0]
        worker_before, user_before = _tree_cpu(proc.pid)
        sidecar_before = time.process_time()
        started = time.perf_counter()
        ids = [
            client.schedule_new_orchestration(samples.fan_out_fan_in, input=FAN_OUT)
            for _ in range(count)
        ]
        statuses = _wait_all(client, ids)
        elapsed = time.perf_counter() - started
        sidecar = time.process_time() - sidecar_before
        worker_after, user_after = _tree_cpu(proc.pid)
        if statuses != {"COMPLETED": count}:
            raise SystemExit(f"{kind}: not every orchestration completed: {statuses}")
        if arrivals is not None:
            print(f"{kind}: {arrivals.summary()}", flush=True)
        per = 1000.0 / count
        return Run(
            count / elapsed,
            (worker_after - worker_before) * per,
            (user_after - user_before) * per,
            sidecar * per,
            (turns[0] - turns_before) / count,
        )
    finally:
        client.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        backend.stop(grace=0)


TARGET = 1.5
"""The ratio issue 16 asks for: ours at least 1.5x the SDK's worker."""


def _load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


NAMES = {
    "sdk": "SDK worker (TaskHubGrpcWorker)",
    "inspector": "inspector worker",
    "baseline": "baseline (--baseline)",
    "floor": "floor (--floor, no user code)",
    "floor-pipes": "floor with user processes",
}


def _report(count: int, rounds: int, runs: dict[str, list[Run]]) -> None:
    print(
        f"{count} orchestrations, fan-out of {FAN_OUT} activities each (+1 to sum), "
        f"cpus={os.cpu_count()}, {rounds} rounds, load {_load()}"
    )
    print(
        f"{'':32}{'median':>8}{'best':>8}   CPU ms per orchestration (medians):"
        " worker, user processes, sidecar+client; turns per orchestration"
    )
    for kind, mine in runs.items():
        rates = [r.rate for r in mine]
        cpu = [statistics.median(getattr(r, f) for r in mine) for f in Run._fields[1:]]
        print(
            f"{NAMES[kind] + ':':32}{statistics.median(rates):8.1f}{max(rates):8.1f}"
            f"   {cpu[0]:6.2f} {cpu[1]:6.2f} {cpu[2]:6.2f}  (worker tree {cpu[0] + cpu[1]:.2f},"
            f" all {sum(cpu[:3]):.2f}); {cpu[3]:.2f} turns"
        )
    ours = [r.rate for r in runs["inspector"]]
    for other in [kind for kind in runs if kind != "inspector"]:
        theirs = [r.rate for r in runs[other]]
        ratio = statistics.median(ours) / statistics.median(theirs)
        per_round = ", ".join(f"{a / b:.2f}" for a, b in zip(ours, theirs, strict=True))
        cpu_ratio = statistics.median(_all_cpu(runs[other])) / statistics.median(
            _all_cpu(runs["inspector"])
        )
        line = f"ratio ours / {other}, medians: {ratio:5.2f}x (per round: {per_round});"
        line += f" CPU of all parts per orchestration, {other} / ours: {cpu_ratio:.2f}x"
        if other == "sdk":
            line += f"; target {TARGET}x {'met' if ratio >= TARGET else 'NOT met'}"
        print(line)


def _all_cpu(runs: list[Run]) -> list[float]:
    return [r.worker_cpu + r.user_cpu + r.sidecar_cpu for r in runs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=500, help="orchestrations per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per worker")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run ours once under cProfile (every thread and user process) into DIR;"
        " read with python bench/profile_worker.py DIR",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another checkout whose inspector worker runs in the same rounds (before/after)",
    )
    parser.add_argument(
        "--ours-args",
        default="",
        metavar="ARGS",
        help="extra options for inspector worker, e.g. '--max-activities 2'",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run a minimal worker (canned answers, no user code): the sidecar's ceiling;"
        " and the same with its answers computed in two child processes",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="after each run, how close together a fan-out's results reached the sidecar and"
        " how many orchestrations were queued there (why a burst of results can split)",
    )
    args = parser.parse_args(argv)
    OURS_EXTRA[:] = args.ours_args.split()
    global DIAGNOSE
    DIAGNOSE = args.diagnose
    kinds = ["sdk", "inspector"]
    if args.baseline is not None:
        global BASELINE
        BASELINE = args.baseline.resolve()
        kinds.append("baseline")
    if args.floor:
        kinds += ["floor", "floor-pipes"]
    if args.profile is not None:
        global PROFILE_DIR
        PROFILE_DIR = args.profile.resolve()
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        run = run_once("inspector", args.count)
        print(f"profiled: {run}; python bench/profile_worker.py {args.profile}")
        return 0
    runs: dict[str, list[Run]] = {kind: [] for kind in kinds}
    for round_no in range(args.rounds):
        shift = round_no % len(kinds)  # rotate which goes first
        for kind in kinds[shift:] + kinds[:shift]:
            run = run_once(kind, args.count)
            runs[kind].append(run)
            print(
                f"round {round_no + 1}: {kind:9} {run.rate:8.1f} orchestrations/s"
                f"   CPU ms/orchestration: worker {run.worker_cpu:.2f},"
                f" user processes {run.user_cpu:.2f}, sidecar+client {run.sidecar_cpu:.2f};"
                f" {run.turns:.2f} turns/orchestration"
                f"   (load {_load()})",
                flush=True,
            )
    _report(args.count, args.rounds, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
