"""Entity work items per second through the SDK's in-memory sidecar: the SDK's worker vs ours.

Each run starts a fresh ``InMemoryOrchestrationBackend`` in this process (counting every
``CompleteEntityTask``), starts one worker as a separate process (the SDK's
``TaskHubGrpcWorker`` with :mod:`samples.entities` registered, or ``inspector worker --app
samples.entities``), warms it up, then sends N ``add`` signals spread over K counter entities
with the SDK's client and waits until every counter holds its total. Both workers run in one
invocation, side by side, alternating which goes first; batches (entity work items) per second
and operations per second are reported, median and best of the rounds::

    python bench/bench_entities.py [--signals 400] [--entities 20] [--rounds 3]
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
import threading
import time
from pathlib import Path
from typing import Any

from durabletask import client as dt_client
from durabletask.entities import EntityInstanceId
from durabletask.testing import InMemoryOrchestrationBackend

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 300.0
WARMUP = 20
SETTLE_SECONDS = 3.0

_SDK_WORKER = """
import logging, signal, sys, threading
from durabletask import worker
from samples import entities as samples
quiet = logging.getLogger("bench.sdk"); quiet.setLevel(logging.CRITICAL); quiet.propagate = False
w = worker.TaskHubGrpcWorker(host_address=sys.argv[1], logger=quiet)
for e in samples.ENTITIES:
    w.add_entity(e)
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


class CountingBackend(InMemoryOrchestrationBackend):
    """The SDK's sidecar, counting entity batches and operations completed."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self.lock = threading.Lock()
        self.batches = 0
        self.operations = 0

    def CompleteEntityTask(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self.lock:
            self.batches += 1
            self.operations += len(request.results)
        return super().CompleteEntityTask(request, context)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command(kind: str, address: str) -> list[str]:
    if kind == "sdk":
        return [sys.executable, "-c", _SDK_WORKER, address]
    return [sys.executable, "-m", "inspector", "worker", address, "--app", "samples.entities"]


def _signal_all(client: dt_client.TaskHubGrpcClient, prefix: str, signals: int, keys: int) -> None:
    for n in range(signals):
        client.signal_entity(EntityInstanceId("counter", f"{prefix}{n % keys}"), "add", 1)


def _wait_totals(client: dt_client.TaskHubGrpcClient, prefix: str, signals: int, keys: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    for k in range(keys):
        want = str(signals // keys + (1 if k < signals % keys else 0))
        entity = EntityInstanceId("counter", f"{prefix}{k}")
        while True:
            meta = client.get_entity(entity, include_state=True)
            if meta is not None and meta.get_state() == want:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{entity}: not {want} after {TIMEOUT:.0f}s")
            time.sleep(0.02)


def run_once(kind: str, signals: int, keys: int) -> tuple[float, float, int]:
    """Batches/s, operations/s and the batch count for one worker on a fresh sidecar."""
    port = _free_port()
    backend = CountingBackend(port)
    backend.start()
    address = f"127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        _command(kind, address),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=_QUIET)
    try:
        _signal_all(client, "warm", WARMUP, 5)
        _wait_totals(client, "warm", WARMUP, 5)
        time.sleep(SETTLE_SECONDS)
        with backend.lock:
            batches0, ops0 = backend.batches, backend.operations
        started = time.perf_counter()
        _signal_all(client, "k", signals, keys)
        _wait_totals(client, "k", signals, keys)
        elapsed = time.perf_counter() - started
        with backend.lock:
            batches, ops = backend.batches - batches0, backend.operations - ops0
        return batches / elapsed, ops / elapsed, batches
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
    parser.add_argument("--signals", type=int, default=400, help="add signals per run")
    parser.add_argument("--entities", type=int, default=20, help="counter entities they go to")
    parser.add_argument("--rounds", type=int, default=3, help="runs per worker")
    args = parser.parse_args(argv)
    rates: dict[str, list[tuple[float, float, int]]] = {"sdk": [], "inspector": []}
    for round_no in range(args.rounds):
        order = ("sdk", "inspector") if round_no % 2 == 0 else ("inspector", "sdk")
        for kind in order:
            batches, ops, count = run_once(kind, args.signals, args.entities)
            rates[kind].append((batches, ops, count))
            print(
                f"round {round_no + 1}: {kind:9} {batches:8.1f} batches/s {ops:8.1f} ops/s "
                f"({count} batches)",
                flush=True,
            )
    print(
        f"{args.signals} signals over {args.entities} entities, cpus={os.cpu_count()}, "
        f"{args.rounds} rounds"
    )
    print(f"{'':26}{'batches/s median':>18}{'best':>8}{'ops/s median':>14}{'best':>8}")
    for kind, label in (("sdk", "SDK worker"), ("inspector", "inspector worker")):
        b = [r[0] for r in rates[kind]]
        o = [r[1] for r in rates[kind]]
        print(
            f"{label:26}{statistics.median(b):18.1f}{max(b):8.1f}"
            f"{statistics.median(o):14.1f}{max(o):8.1f}"
        )
    ratio = statistics.median(r[1] for r in rates["inspector"]) / statistics.median(
        r[1] for r in rates["sdk"]
    )
    print(f"ratio of ops/s medians (ours / SDK): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
