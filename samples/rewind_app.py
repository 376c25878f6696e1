"""Orchestrations that fail once, then succeed after a rewind (``client.rewind_orchestration``).

The activity :func:`flaky_once` fails the first time it runs for an instance and succeeds after
that; it remembers the instances in files of ``$REWIND_STATE_DIR`` (default: ``rewind-state`` in
the system's temporary folder), so separate worker processes agree.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

from durabletask import task


def _seen(key: str) -> bool:
    folder = Path(os.environ.get("REWIND_STATE_DIR") or Path(tempfile.gettempdir()) / "rewind")
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / key.replace(":", "_")
    if marker.exists():
        return True
    marker.write_text("1")
    return False


def flaky_once(ctx: task.ActivityContext, value: str) -> str:
    """Fails the first time for each instance."""
    if not _seen(ctx.orchestration_id):
        raise RuntimeError(f"{value}: first attempt fails")
    return f"{value} ok"


def steady(ctx: task.ActivityContext, value: str) -> str:
    return f"{value} steady"


def rewound_activity(ctx: task.OrchestrationContext, value: str) -> Generator[Any, Any, str]:
    """A steady activity, then one that fails once: a rewind schedules only the failed one."""
    first = yield ctx.call_activity(steady, input=value)
    second = yield ctx.call_activity(flaky_once, input=value)
    return f"{first}; {second}"


def rewound_child(ctx: task.OrchestrationContext, value: str) -> Generator[Any, Any, str]:
    """A sub-orchestration that fails once: the rewind rewinds it too."""
    result = yield ctx.call_sub_orchestrator(rewound_activity, input=value)
    return f"child: {result}"
