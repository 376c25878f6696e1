"""The SDK flavour of this process: Microsoft's ``durabletask``, or Dapr's fork of it.

Dapr's workflow extension vendors its own copy of the durabletask SDK as
``dapr.ext.workflow._durabletask``, with protobuf modules whose symbols clash with the
durabletask package's in protobuf's default pool ("duplicate symbol 'OrchestrationStatus'"):
one process can load only one of them. So the flavour is chosen once per process, by the
user's app: a process that has imported ``dapr.ext.workflow`` (the app did, when it was
loaded) uses Dapr's fork, every other process durabletask. The choice is made on first use and
then kept; the command line loads ``--app`` before anything of the engine asks.

This module is the one owner of that choice: every engine module that needs the SDK's task
module, its errors or its failure-details message asks here, never imports either package
itself (entity features exist only in durabletask and load only with that flavour).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

DURABLETASK = "durabletask"
DAPR = "dapr"
_DAPR_APP_MODULE = "dapr.ext.workflow"
_PACKAGES = {DURABLETASK: "durabletask", DAPR: "dapr.ext.workflow._durabletask"}

_chosen: str | None = None


def flavour() -> str:
    """``"dapr"`` when this process runs a Dapr app, else ``"durabletask"`` (kept once asked)."""
    global _chosen
    if _chosen is None:
        _chosen = DAPR if _DAPR_APP_MODULE in sys.modules else DURABLETASK
    return _chosen


def is_dapr() -> bool:
    """Whether this process uses Dapr's fork of the SDK."""
    return flavour() == DAPR


def module(name: str) -> ModuleType:
    """The flavour's module ``name`` (``"task"``, ``"worker"``, ``"internal.shared"``, ...)."""
    return importlib.import_module(f"{_PACKAGES[flavour()]}.{name}")


def task_module() -> ModuleType:
    """The flavour's task module: its task classes, ``when_all``/``when_any``, ``RetryPolicy``."""
    return module("task")


def state_error(message: str) -> Exception:
    """The flavour's "don't know how to handle this event" error."""
    t = task_module()
    kind = getattr(t, "WorkflowStateError", None) or t.OrchestrationStateError
    return kind(message)  # type: ignore[no-any-return]


def new_task(expected_type: type | None = None) -> Any:
    """A new completable task (Dapr's tasks take no expected type)."""
    t = task_module()
    if is_dapr():
        return t.CompletableTask()
    return t.CompletableTask(expected_type=expected_type)


def failure_details_message(encoded: bytes) -> Any:
    """The flavour's ``TaskFailureDetails`` message parsed from our encoding of one (the fields
    a ``TaskFailedError`` reads have the same numbers in both schemas)."""
    if is_dapr():
        pb: Any = module("internal.protos")
    else:
        pb = module("internal.orchestrator_service_pb2")
    msg = pb.TaskFailureDetails()
    msg.ParseFromString(encoded)
    return msg


def __getattr__(name: str) -> Any:
    if name == "task":
        return task_module()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
