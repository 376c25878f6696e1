"""The worker's fault suite, side by side: ``inspector worker`` vs the SDK's ``TaskHubGrpcWorker``.

Each fault runs against a fresh ``durabletask.testing.InMemoryOrchestrationBackend`` (which drops
abandoned activities and keeps no leases) with the SDK's client, once with each worker as a
separate process serving ``tests/worker/fixtures/fault_app.py``, and prints one table row per
fault: how many orchestrations reached their terminal state, and how::

    python bench/faults_side_by_side.py [--only sigterm_300,down_10s,...]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from durabletask import client as dt_client
from durabletask.testing import InMemoryOrchestrationBackend

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "tests" / "worker" / "fixtures" / "fault_app.py"
ACTIVITY_TIMEOUT = "5"
"""Ours: ``--activity-timeout`` for the hanging activity (the default 300 s, made short)."""
WAIT = 120.0
"""Seconds to wait for the orchestrations of one fault to finish."""
WAIT_ONE = 60.0
"""Seconds to wait for the one orchestration of a fault."""

_SDK_WORKER = """
import logging, signal, sys, threading, importlib.util
from durabletask import worker
spec = importlib.util.spec_from_file_location("fault_app", sys.argv[2])
app = importlib.util.module_from_spec(spec); spec.loader.exec_module(app)
quiet = logging.getLogger("bench.sdk"); quiet.setLevel(logging.CRITICAL); quiet.propagate = False
w = worker.TaskHubGrpcWorker(host_address=sys.argv[1], logger=quiet)
for name in ("calls_big", "big_output", "calls_hang", "calls_slow", "fan_short"):
    w.add_orchestrator(getattr(app, name))
for name in ("big", "hang", "slow", "short_nap"):
    w.add_activity(getattr(app, name))
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
w.start()
while not done.wait(0.2):
    pass
w.stop()
"""

_QUIET = logging.getLogger("bench.client")
_QUIET.setLevel(logging.CRITICAL)
_QUIET.propagate = False
_TERMINAL = {
    dt_client.OrchestrationStatus.COMPLETED,
    dt_client.OrchestrationStatus.FAILED,
    dt_client.OrchestrationStatus.TERMINATED,
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Run:
    """One fault against one worker kind: a sidecar, a client, worker processes."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp
        self.port = _free_port()
        self.backend = InMemoryOrchestrationBackend(port=self.port)
        self.backend.start()
        self.address = f"127.0.0.1:{self.port}"
        self.client = dt_client.TaskHubGrpcClient(host_address=self.address, logger=_QUIET)
        self.procs: list[subprocess.Popen[bytes]] = []

    def worker(self) -> subprocess.Popen[bytes]:
        if self.kind == "sdk":
            cmd = [sys.executable, "-c", _SDK_WORKER, self.address, str(APP)]
        else:
            cmd = [sys.executable, "-m", "inspector", "worker", self.address, "--app", str(APP)]
            cmd += ["--activity-timeout", ACTIVITY_TIMEOUT]
        log = open(self.tmp / f"{self.kind}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def wait_all(self, ids: list[str], timeout: float = WAIT) -> list[Any]:
        deadline = time.monotonic() + timeout
        states: dict[str, Any] = {}
        while len(states) < len(ids) and time.monotonic() < deadline:
            for iid in ids:
                if iid not in states:
                    state = self.client.get_orchestration_state(iid)
                    if state is not None and state.runtime_status in _TERMINAL:
                        states[iid] = state
            time.sleep(0.2)
        return [states.get(iid) for iid in ids]

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        self.client.close()
        self.backend.stop(grace=0)


def _finished(states: list[Any]) -> str:
    done = sum(1 for s in states if s is not None)
    return f"{done}/{len(states)} finished"


def _one(states: list[Any]) -> str:
    state = states[0]
    if state is None:
        return f"still RUNNING after {WAIT_ONE:g} s (lost)"
    text = state.runtime_status.name
    kind = message = ""
    if state.failure_details is not None:
        kind, message = state.failure_details.error_type, state.failure_details.message
    elif state.serialized_output:
        out = json.loads(state.serialized_output)
        if isinstance(out, dict):
            text += ", the orchestration caught an activity failure:"
            kind, message = str(out["type"]), str(out["message"])
    if kind:
        text += f" {kind.rsplit('.', 1)[-1]}"
        if "4194304" in message:
            text += " naming the 4194304-byte limit"
        if "stuck at " in message:
            where = message.split("stuck at ", 1)[1].split(":")
            text += f" stuck at {Path(where[0]).name}:{where[1]}"
    return text


def sigterm_300(run: Run) -> str:
    """300 fan-outs of 3 short activities, SIGTERM after 3 s, then a second worker."""
    first = run.worker()
    time.sleep(2.0)
    ids = [run.client.schedule_new_orchestration("fan_short", input=3) for _ in range(300)]
    time.sleep(3.0)
    first.send_signal(signal.SIGTERM)
    first.wait(400)
    run.worker()
    return _finished(run.wait_all(ids))


def down_10s(run: Run) -> str:
    """20 slow activities running when the sidecar goes away for 10 s (keeping its state)."""
    markers = run.tmp / f"markers-{run.kind}"
    markers.mkdir()
    run.worker()
    ids = [
        run.client.schedule_new_orchestration("calls_slow", input=str(markers / f"m{i}"))
        for i in range(20)
    ]
    deadline = time.monotonic() + WAIT
    while len(list(markers.iterdir())) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.backend.stop(grace=0)
    time.sleep(10.0)
    run.backend.start()
    return _finished(run.wait_all(ids))


def result_10mb(run: Run) -> str:
    """An activity returning 10 MB (over the sidecar's 4 MB message limit)."""
    run.worker()
    return _one(
        run.wait_all([run.client.schedule_new_orchestration("calls_big", input=10)], WAIT_ONE)
    )


def output_10mb(run: Run) -> str:
    """An orchestration whose output is 10 MB."""
    run.worker()
    return _one(
        run.wait_all([run.client.schedule_new_orchestration("big_output", input=10)], WAIT_ONE)
    )


def hanging_activity(run: Run) -> str:
    """An activity that never returns (ours: --activity-timeout 5, the SDK's has none)."""
    run.worker()
    return _one(run.wait_all([run.client.schedule_new_orchestration("calls_hang")], WAIT_ONE))


FAULTS: dict[str, Callable[[Run], str]] = {
    "sigterm_300": sigterm_300,
    "down_10s": down_10s,
    "result_10mb": result_10mb,
    "output_10mb": output_10mb,
    "hanging_activity": hanging_activity,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(FAULTS), help="comma-separated fault names")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        for name in args.only.split(","):
            row = [name]
            for kind in ("ours", "sdk"):
                run = Run(kind, Path(tmp))
                try:
                    row.append(FAULTS[name](run))
                finally:
                    run.close()
            rows.append(row)
            print(f"| {row[0]} | {row[1]} | {row[2]} |", flush=True)
    print("\n| fault | inspector worker | SDK's TaskHubGrpcWorker |\n|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")


if __name__ == "__main__":
    main()
