"""The embedded worker: serves a Durable Task sidecar's work items with the user's APP.

Orchestrator turns are answered by this project's replay engine, activities by calling the
user's functions; both run in child processes that the worker can stop for good (see
:mod:`engine.worker._process` and :mod:`engine.worker._pool`). Usage::

    from engine.worker import ConnectionOptions, Worker, WorkerOptions

    options = WorkerOptions(app="samples.orchestrations")
    worker = Worker(ConnectionOptions("127.0.0.1:4001"), options)
    worker.start()
    ...
    worker.stop()
"""

from engine.worker._errors import (
    ActivityTimeoutError,
    ResponseRefused,
    TurnTimeoutError,
    UserProcessCrashed,
    WorkerError,
)
from engine.worker._events import Outcome, WorkerStats, WorkItemEvent
from engine.worker._lifecycle import State
from engine.worker._messages import activity_summary, orchestrator_name, turn_failed, turn_summary
from engine.worker._options import ConnectionOptions, WorkerOptions
from engine.worker._record import Recorder
from engine.worker._stack import stuck_location
from engine.worker._worker import CONNECTION_STATES, Worker

__all__ = [
    "CONNECTION_STATES",
    "Outcome",
    "ActivityTimeoutError",
    "State",
    "ConnectionOptions",
    "Recorder",
    "ResponseRefused",
    "TurnTimeoutError",
    "UserProcessCrashed",
    "Worker",
    "WorkerError",
    "WorkerOptions",
    "WorkerStats",
    "WorkItemEvent",
    "activity_summary",
    "orchestrator_name",
    "stuck_location",
    "turn_failed",
    "turn_summary",
]
