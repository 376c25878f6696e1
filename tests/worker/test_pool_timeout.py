"""A pool notices a hanging job's timeout even when it was sent while nothing else ran.

The pool's collector waits on the user processes' pipes with no timeout while no job runs; a
job sent to an idle, already watched process must wake it, or a job that never answers is
never seen past its timeout (the orchestration would stay in flight for good). Real user
processes run the fixture APP here; no sidecar is needed.
"""

from __future__ import annotations

import tempfile
import threading
import time

from conftest import FIXTURE_APP

from engine.proto import orchestrator_service_pb2 as pb
from engine.worker._boot import start_pools
from engine.worker._job import Job
from engine.worker._options import WorkerOptions
from engine.worker._pool import Pool
from engine.worker._process import JobResult

DEADLINE = 120.0


def _turn(name: str, instance: str) -> Job:
    begun = pb.HistoryEvent(eventId=-1, orchestratorStarted=pb.OrchestratorStartedEvent())
    begun.timestamp.FromSeconds(1_700_000_000)
    start = pb.HistoryEvent(eventId=-1, timestamp=begun.timestamp)
    start.executionStarted.name = name
    start.executionStarted.orchestrationInstance.instanceId = instance
    request = pb.OrchestratorRequest(instanceId=instance, newEvents=[begun, start])
    return Job("turn", request.SerializeToString(), f"token-{instance}", instance, name)


def _wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {DEADLINE:g}s: {what}"
        time.sleep(0.01)


def test_a_job_sent_while_the_collector_waits_unbounded_still_times_out() -> None:
    results: dict[str, JobResult] = {}
    arrived = threading.Condition()

    def on_result(job: Job, result: JobResult) -> None:
        with arrived:
            results[job.instance_id] = result
            arrived.notify_all()

    options = WorkerOptions(FIXTURE_APP, turn_timeout=1.0, max_orchestrations=1, max_activities=1)
    with tempfile.TemporaryDirectory() as reports:
        turns, activities = start_pools(options, reports, on_result, lambda label, line: None)
        try:
            turns.submit(_turn("quick", "first"))
            _wait_until(lambda: "first" in results, "the first turn answered")
            # The collector is back in its wait with nothing running: the next job is sent to
            # the same, already watched process.
            _wait_until(lambda: _waits_unbounded(turns), "the collector waits with no timeout")
            turns.submit(_turn("spin", "stuck"))
            _wait_until(lambda: "stuck" in results, "the hanging turn timed out")
        finally:
            turns.shutdown(5.0)
            activities.shutdown(5.0)
    assert results["first"].outcome == "done"
    assert results["stuck"].outcome == "timeout"
    assert "worker_app.py" in results["stuck"].location


def _waits_unbounded(pool: Pool) -> bool:
    return bool(pool._unbounded)  # noqa: SLF001 - the state this test is about
