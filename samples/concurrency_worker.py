"""An app whose worker runs at most two activities at once
(``TaskHubGrpcWorker(concurrency_options=ConcurrencyOptions(...))``).

``--app samples.concurrency_worker:worker``. :func:`hold` marks its start in the folder
``$CONCURRENCY_DIR`` (default: ``concurrency`` in the system's temporary folder) and waits
until a file ``go-<n>`` releases it, so a test can see how many run at once; the entity
:func:`gate` does the same for entity batches (one at a time).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

from durabletask import task
from durabletask.entities import EntityContext
from durabletask.worker import ConcurrencyOptions, TaskHubGrpcWorker

LIMITS = ConcurrencyOptions(
    maximum_concurrent_activity_work_items=2,
    maximum_concurrent_orchestration_work_items=3,
    maximum_concurrent_entity_work_items=1,
)
HOLD_SECONDS = 120.0


def folder() -> Path:
    """Where :func:`hold` marks its start and end and waits for its release."""
    path = Path(os.environ.get("CONCURRENCY_DIR") or Path(tempfile.gettempdir()) / "concurrency")
    path.mkdir(parents=True, exist_ok=True)
    return path


def running(where: Path) -> int:
    """How many holds have started and not ended."""
    return len(list(where.glob("started-*"))) - len(list(where.glob("ended-*")))


def _hold(where: Path, n: str) -> None:
    """Mark the start (with how many were running then), wait for ``go-<n>``, mark the end."""
    (where / f"started-{n}").write_text("")
    (where / f"seen-{n}").write_text(str(running(where)))
    deadline = time.monotonic() + HOLD_SECONDS
    while not (where / f"go-{n}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    (where / f"ended-{n}").write_text("")


def hold(ctx: task.ActivityContext, n: int) -> int:
    """An activity held until the test releases it (``$CONCURRENCY_DIR/go-<n>``)."""
    _hold(folder(), str(n))
    return n


def gate(ctx: EntityContext, input: Any) -> None:
    """An entity whose ``hold`` operation is held until the test releases it, in the
    subfolder ``entities`` (``go-<key>``)."""
    if ctx.operation == "hold":
        where = folder() / "entities"
        where.mkdir(exist_ok=True)
        _hold(where, ctx.entity_id.key)


def spread(ctx: task.OrchestrationContext, count: int) -> Generator[Any, Any, int]:
    """Fan out ``count`` holds at once; their sum."""
    done = yield task.when_all([ctx.call_activity(hold, input=n) for n in range(count)])
    return sum(done)


def build_worker(host_address: str | None = None) -> TaskHubGrpcWorker:
    """The app's worker, configured (not started)."""
    w = TaskHubGrpcWorker(host_address=host_address, concurrency_options=LIMITS)
    w.add_orchestrator(spread)
    w.add_activity(hold)
    return w


worker = build_worker()
