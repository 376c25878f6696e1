"""Fault tests: sidecar restart, a hanging orchestrator, a crashing activity, SIGTERM."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_APP, WorkerProcess, start_sidecar, wait_done
from durabletask import client as dt_client

from samples import orchestrations as samples

pytestmark = pytest.mark.faults

COMPLETED = dt_client.OrchestrationStatus.COMPLETED
FAILED = dt_client.OrchestrationStatus.FAILED


def _tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and all its descendants, from /proc."""
    total = 0.0
    todo = [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task_dir in Path(f"/proc/{current}/task").iterdir():
                kids = (task_dir / "children").read_text().split()
                todo.extend(int(k) for k in kids)
        except (OSError, IndexError, ValueError):
            continue
    return total


def test_reconnects_after_sidecar_restart(tmp_path: Path, client_for: Any) -> None:
    backend, port = start_sidecar()
    worker = WorkerProcess(f"127.0.0.1:{port}", "samples.orchestrations", log=tmp_path / "w.log")
    try:
        client = client_for(port)
        iid = client.schedule_new_orchestration(samples.single_activity, input="one")
        assert wait_done(client, iid).runtime_status == COMPLETED
        backend.stop(grace=0)
        time.sleep(1.0)
        backend, port = start_sidecar(port)
        client = client_for(port)
        ids = [client.schedule_new_orchestration(samples.fan_out_fan_in, input=3) for _ in range(5)]
        for iid in ids:
            state = wait_done(client, iid, timeout=60)
            assert state.runtime_status == COMPLETED
            assert state.serialized_output == '{"squares": [1, 4, 9], "sum": 14}'
        assert "reconnected" in worker.output()
        assert worker.terminate() == 0
    finally:
        worker.stop()
        backend.stop(grace=0)


def test_hanging_orchestrator_fails_after_max_timeouts(
    tmp_path: Path, sidecar: Any, client_for: Any
) -> None:
    _, port = sidecar
    source = Path(FIXTURE_APP).read_text().splitlines()
    stuck_line = next(i for i, text in enumerate(source, 1) if "# stuck here" in text)
    worker = WorkerProcess(
        f"127.0.0.1:{port}",
        FIXTURE_APP,
        "--turn-timeout",
        "1",
        "--max-timeouts",
        "3",
        log=tmp_path / "w.log",
    )
    try:
        client = client_for(port)
        worker.wait_for("connected")
        hung = client.schedule_new_orchestration("spin")
        # Others keep completing while the hung turn is given up and redelivered.
        served = []
        for n in range(3):
            iid = client.schedule_new_orchestration("quick", input=n + 1)
            served.append(wait_done(client, iid, timeout=20))
            time.sleep(0.5)
        assert [s.serialized_output for s in served] == ["1", "2", "3"], (
            [(s.runtime_status, s.failure_details) for s in served],
            worker.output(),
        )
        state = wait_done(client, hung, timeout=40)
        assert state.runtime_status == FAILED
        details = state.failure_details
        assert details is not None
        assert details.error_type == "engine.worker.TurnTimeoutError"
        # A `while True: pass` is caught on either of its two lines.
        stuck_at = re.search(r"worker_app\.py:(\d+) in spin", details.message)
        assert stuck_at is not None and int(stuck_at.group(1)) in (stuck_line, stuck_line + 1)
        assert "3 times" in details.message
        log = worker.output()
        assert len(re.findall(r"spin ABANDONED", log)) == 2
        assert re.search(rf"worker_app\.py:({stuck_line}|{stuck_line + 1})", log)
        # The stuck process was killed: the worker's whole process tree is idle again.
        time.sleep(1.0)
        before, started = _tree_cpu_seconds(worker.proc.pid), time.monotonic()
        time.sleep(3.0)
        used = _tree_cpu_seconds(worker.proc.pid) - before
        assert used / (time.monotonic() - started) < 0.15, f"CPU {used:.2f}s in 3s"
        # Still serving.
        iid = client.schedule_new_orchestration("quick", input="after")
        assert wait_done(client, iid).serialized_output == '"after"'
        assert worker.terminate() == 0
    finally:
        worker.stop()


def test_crashing_activity_becomes_a_failure(tmp_path: Path, sidecar: Any, client_for: Any) -> None:
    _, port = sidecar
    worker = WorkerProcess(f"127.0.0.1:{port}", FIXTURE_APP, log=tmp_path / "w.log")
    try:
        client = client_for(port)
        iid = client.schedule_new_orchestration("calls_crash")
        state = wait_done(client, iid)
        assert state.runtime_status == COMPLETED
        output = state.serialized_output
        assert "engine.worker.UserProcessCrashed" in output
        assert "exit code 3" in output
        assert "about to crash: state corrupted" in output
        assert "about to crash" in worker.output()
        # The worker replaced the process and keeps serving (async activities too).
        iid = client.schedule_new_orchestration("fan_naps", input=4)
        assert wait_done(client, iid).serialized_output == "12"
        iid = client.schedule_new_orchestration("calls_missing")
        out = wait_done(client, iid).serialized_output
        assert "durabletask.worker.ActivityNotRegisteredError" in out
        assert "Activity function named 'no_such_activity' was not registered!" in out
        assert '["builtins.ValueError", "bad input"]' in out
        assert worker.terminate() == 0
    finally:
        worker.stop()


def test_sigterm_under_load_loses_nothing(tmp_path: Path, sidecar: Any, client_for: Any) -> None:
    _, port = sidecar
    address = f"127.0.0.1:{port}"
    client = client_for(port)
    # The in-memory sidecar drops an abandoned activity, so nothing is lost only if every
    # activity the sidecar hands out while stopping finishes within the grace period: a
    # generous one, as the 180 naps of 0.2 s may be slow on a busy machine.
    grace = 20
    worker = WorkerProcess(
        address,
        FIXTURE_APP,
        "--grace",
        str(grace),
        "--max-activities",
        "12",
        log=tmp_path / "w1.log",
    )
    second = None
    try:
        worker.wait_for("connected")
        ids = [client.schedule_new_orchestration("fan_naps", input=3) for _ in range(60)]
        # Every instance has had its first turn (no new instance is left for the sidecar to
        # hand out, which only the stream's silence guards): 180 naps are queued or running,
        # second turns follow their results.
        worker.wait_for_count("fan_naps 3 actions", 60, timeout=60)
        started = time.monotonic()
        code = worker.terminate(timeout=2 * grace)
        elapsed = time.monotonic() - started
        log = worker.output()
        assert code == 0, log
        assert elapsed < grace + 2.5, f"stopped in {elapsed:.1f}s\n{log}"
        assert "stopped before the activity finished" not in log, log
        summary = re.search(
            r"(\d+) work items received, (\d+) completed, (\d+) abandoned, (\d+) undelivered",
            log,
        )
        assert summary is not None, log
        received, completed, abandoned, undelivered = map(int, summary.groups())
        assert received == completed + abandoned and undelivered == 0, log
        # Nothing is stuck in flight: a new worker finishes every orchestration.
        second = WorkerProcess(address, FIXTURE_APP, log=tmp_path / "w2.log")
        for iid in ids:
            state = wait_done(client, iid, timeout=60)
            assert state.runtime_status == COMPLETED, (iid, log)
            assert state.serialized_output == "6"
        assert second.terminate() == 0
    finally:
        worker.stop()
        if second is not None:
            second.stop()
