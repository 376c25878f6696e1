"""Apps whose worker has ``VersioningOptions``: a worker at 2.0 that serves 2.0 and older.

``--app samples.versioned_worker:worker`` fails a newer orchestration (``VersionMismatch``);
``--app samples.versioned_worker:rejecting_worker`` gives its work item back instead, so it
stays pending. Sub-orchestrations started without a version get the default version, 2.0.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from durabletask import task
from durabletask.worker import (
    TaskHubGrpcWorker,
    VersionFailureStrategy,
    VersioningOptions,
    VersionMatchStrategy,
)


def child(ctx: task.OrchestrationContext, _: Any) -> str | None:
    """Returns the version it runs at."""
    return ctx.version


def parent(ctx: task.OrchestrationContext, _: Any) -> Generator[Any, Any, Any]:
    """Starts a child without naming a version: it gets the worker's default version."""
    child_version = yield ctx.call_sub_orchestrator(child)
    return {"parent": ctx.version, "child": child_version}


def build_worker(
    host_address: str | None = None,
    failure: VersionFailureStrategy = VersionFailureStrategy.FAIL,
) -> TaskHubGrpcWorker:
    """A worker at 2.0 serving current-or-older orchestrations; others fail (or are rejected)."""
    w = TaskHubGrpcWorker(host_address=host_address)
    w.use_versioning(
        VersioningOptions(
            version="2.0",
            default_version="2.0",
            match_strategy=VersionMatchStrategy.CURRENT_OR_OLDER,
            failure_strategy=failure,
        )
    )
    w.add_orchestrator(parent)
    w.add_orchestrator(child)
    return w


def build_rejecting_worker(host_address: str | None = None) -> TaskHubGrpcWorker:
    """The same worker, rejecting (abandoning) orchestrations newer than 2.0."""
    return build_worker(host_address, VersionFailureStrategy.REJECT)


worker = build_worker()
rejecting_worker = build_rejecting_worker()
