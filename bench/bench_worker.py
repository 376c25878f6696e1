"""Orchestrations per second through the SDK's in-memory sidecar: the SDK's worker vs ours.

Each run starts a fresh ``durabletask.testing.InMemoryOrchestrationBackend`` in this process,
starts one worker as a separate process (the SDK's ``TaskHubGrpcWorker`` with the samples
registered, or ``inspector worker --app samples.orchestrations``), warms it up, then schedules
N ``fan_out_fan_in`` orchestrations (5 ``square`` activities at once, then ``add_numbers``)
with the SDK's client and waits for all of them. Both workers run in one invocation, side by
side, under the same sidecar settings and warm-up; each round runs both, alternating which
goes first, and the median and the best of the rounds are reported::

    python bench/bench_worker.py [--count 500] [--rounds 3]
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

_QUIET = logging.getLogger("bench.client")
_QUIET.setLevel(logging.CRITICAL)
_QUIET.propagate = False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _worker_command(kind: str, address: str) -> list[str]:
    if kind == "sdk":
        return [sys.executable, "-c", _SDK_WORKER, address]
    return [
        sys.executable,
        "-m",
        "inspector",
        "worker",
        address,
        "--app",
        "samples.orchestrations",
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


def run_once(kind: str, count: int) -> float:
    """Push ``count`` orchestrations through a fresh sidecar with one worker; orchestrations/s."""
    port = _free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    address = f"127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        _worker_command(kind, address),
        cwd=ROOT,
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
        started = time.perf_counter()
        ids = [
            client.schedule_new_orchestration(samples.fan_out_fan_in, input=FAN_OUT)
            for _ in range(count)
        ]
        statuses = _wait_all(client, ids)
        elapsed = time.perf_counter() - started
        if statuses != {"COMPLETED": count}:
            raise SystemExit(f"{kind}: not every orchestration completed: {statuses}")
        return count / elapsed
    finally:
        client.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        backend.stop(grace=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=500, help="orchestrations per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per worker")
    args = parser.parse_args(argv)
    rates: dict[str, list[float]] = {"sdk": [], "inspector": []}
    for round_no in range(args.rounds):
        order = ("sdk", "inspector") if round_no % 2 == 0 else ("inspector", "sdk")
        for kind in order:
            rate = run_once(kind, args.count)
            rates[kind].append(rate)
            print(f"round {round_no + 1}: {kind:9} {rate:8.1f} orchestrations/s", flush=True)
    print(
        f"{args.count} orchestrations, fan-out of {FAN_OUT} activities each (+1 to sum), "
        f"cpus={os.cpu_count()}, {args.rounds} rounds"
    )
    median = {kind: statistics.median(values) for kind, values in rates.items()}
    best = {kind: max(values) for kind, values in rates.items()}
    print(f"{'':32}{'median':>8}{'best':>8}")
    print(f"SDK worker (TaskHubGrpcWorker): {median['sdk']:8.1f}{best['sdk']:8.1f}")
    print(f"inspector worker:               {median['inspector']:8.1f}{best['inspector']:8.1f}")
    ratios = [ours / sdk for ours, sdk in zip(rates["inspector"], rates["sdk"], strict=True)]
    print(
        f"ratio (ours / SDK):             {median['inspector'] / median['sdk']:7.2f}x"
        f"{best['inspector'] / best['sdk']:7.2f}x"
        f"   (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
