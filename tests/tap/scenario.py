"""The scenario both workers serve, with and without the tap: the orchestrations and the driver.

The same orchestrator and activity names are registered by the JavaScript worker
(``js/worker.js``), so one driver serves both.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from datetime import timedelta
from typing import Any

from durabletask import client as dt_client
from durabletask import task
from durabletask import worker as dt_worker

Final = dict[str, tuple[str, str | None, str | None]]
"""Instance id -> (status, serialized output, failure message)."""

TERMINAL = {
    dt_client.OrchestrationStatus.COMPLETED,
    dt_client.OrchestrationStatus.FAILED,
    dt_client.OrchestrationStatus.TERMINATED,
}


def hello(ctx: task.ActivityContext, name: str) -> str:
    return f"hello {name}"


def fail(ctx: task.ActivityContext, _: Any) -> None:
    raise ValueError("boom")


def chain(ctx: task.OrchestrationContext, names: list[str]) -> Generator[Any, Any, list[str]]:
    results = []
    for name in names:
        results.append((yield ctx.call_activity("hello", input=name)))
    return results


def timer(ctx: task.OrchestrationContext, _: Any) -> Generator[Any, Any, str]:
    yield ctx.create_timer(timedelta(seconds=1))
    result: str = yield ctx.call_activity("hello", input="timer")
    return result


def wait_event(ctx: task.OrchestrationContext, _: Any) -> Generator[Any, Any, Any]:
    data = yield ctx.wait_for_external_event("approve")
    return {"approved": data}


def child(ctx: task.OrchestrationContext, name: str) -> Generator[Any, Any, str]:
    result: str = yield ctx.call_activity("hello", input=name)
    return result.upper()


def parent(ctx: task.OrchestrationContext, name: str) -> Generator[Any, Any, str]:
    result = yield ctx.call_sub_orchestrator(
        "child", input=name, instance_id=f"{ctx.instance_id}-child"
    )
    return f"parent of {result}"


def catches(ctx: task.OrchestrationContext, _: Any) -> Generator[Any, Any, str]:
    try:
        yield ctx.call_activity("fail")
    except task.TaskFailedError as err:
        return f"caught {err.details.message}"
    return "not caught"


ORCHESTRATORS = (chain, timer, wait_event, child, parent, catches)
ACTIVITIES = (hello, fail)


def sdk_worker(address: str, logger: Any) -> dt_worker.TaskHubGrpcWorker:
    """The SDK's own worker with the scenario registered (not started)."""
    worker = dt_worker.TaskHubGrpcWorker(host_address=address, logger=logger)
    for fn in ORCHESTRATORS:
        worker.add_orchestrator(fn)
    for activity in ACTIVITIES:
        worker.add_activity(activity)
    return worker


def wait_done(client: dt_client.TaskHubGrpcClient, iid: str, timeout: float = 60.0) -> Any:
    """Poll until the instance is terminal (short polls keep the sidecar's threads free)."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get_orchestration_state(iid)
        if state is not None and state.runtime_status in TERMINAL:
            return state
        if time.monotonic() > deadline:
            status = state.runtime_status.name if state else "missing"
            raise AssertionError(f"{iid}: not done after {timeout}s ({status})")
        time.sleep(0.05)


def wait_running(client: dt_client.TaskHubGrpcClient, iid: str, timeout: float = 60.0) -> None:
    """Poll until the instance has started running."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get_orchestration_state(iid)
        if state is not None and state.runtime_status != dt_client.OrchestrationStatus.PENDING:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{iid}: not running after {timeout}s")
        time.sleep(0.05)


def drive(client: dt_client.TaskHubGrpcClient, prefix: str = "") -> Final:
    """Schedule the scenario, raise its event once it waits, and read every final state."""
    started = {
        f"{prefix}chain": ("chain", ["a", "b", "c"]),
        f"{prefix}timer": ("timer", None),
        f"{prefix}event": ("wait_event", None),
        f"{prefix}parent": ("parent", "kid"),
        f"{prefix}catches": ("catches", None),
    }
    for iid, (name, data) in started.items():
        client.schedule_new_orchestration(name, input=data, instance_id=iid)
    wait_running(client, f"{prefix}event")
    client.raise_orchestration_event(f"{prefix}event", "approve", data={"by": "tap"})
    final: Final = {}
    for iid in [*started, f"{prefix}parent-child"]:
        state = wait_done(client, iid)
        failure = state.failure_details
        final[iid] = (
            state.runtime_status.name,
            state.serialized_output,
            None if failure is None else failure.message,
        )
    return final


EXPECTED_OUTPUTS = {
    "chain": ["hello a", "hello b", "hello c"],
    "timer": "hello timer",
    "event": {"approved": {"by": "tap"}},
    "parent": "parent of HELLO KID",
    "parent-child": "HELLO KID",
    "catches": "caught boom",
}
"""What each instance (without its prefix) returns, decoded from JSON."""
