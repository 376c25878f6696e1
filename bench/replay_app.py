"""The orchestrators of the benchmark histories, in a file both replayers load as an app.

It imports nothing but the durabletask SDK's task module, so a whole-process benchmark
measures the replayer's own start-up, not this file's.
"""

from __future__ import annotations

from typing import Any

from durabletask import task


def chain_orchestrator(ctx: task.OrchestrationContext, count: int) -> Any:
    """Call ``count`` activities one after another."""
    total = 0
    for i in range(count):
        total += yield ctx.call_activity("work", input=i)
    return total


def fan_out_orchestrator(ctx: task.OrchestrationContext, count: int) -> Any:
    """Call ``count`` activities at once and wait for all."""
    results = yield task.when_all([ctx.call_activity("work", input=i) for i in range(count)])
    return sum(results)
