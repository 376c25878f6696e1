"""Find the durable entities an APP defines, by the names the SDK registers them under.

An entity is a module-level ``DurableEntity`` subclass defined in the APP, a module-level
function whose first parameter is annotated ``EntityContext``, anything carrying
``__durable_entity_name__``, or an entry of a module-level ``ENTITIES`` list or mapping. Names
are lowercased, as the SDK's ``add_entity`` stores them.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any


def _entity_name(value: Any) -> str:
    from durabletask import task

    return str(task.get_entity_name(value)).lower()


def _is_entity_function(value: Any) -> bool:
    if not inspect.isfunction(value):
        return False
    params = list(inspect.signature(value).parameters.values())
    if not params:
        return False
    note = params[0].annotation
    return note == "EntityContext" or getattr(note, "__name__", "") == "EntityContext"


def find_entities(module: ModuleType) -> dict[str, Any]:
    """The APP's entities by lowercased name (empty when it defines none)."""
    try:
        from durabletask.entities import DurableEntity
    except ImportError:  # pragma: no cover - older SDKs
        return {}
    found: dict[str, Any] = {}
    for value in list(vars(module).values()):
        own = getattr(value, "__module__", None) == module.__name__
        is_class = isinstance(value, type) and issubclass(value, DurableEntity)
        if is_class and value is not DurableEntity and own:
            found[_entity_name(value)] = value
        elif own and (_is_entity_function(value) or hasattr(value, "__durable_entity_name__")):
            found[_entity_name(value)] = value
    listed = getattr(module, "ENTITIES", None)
    if isinstance(listed, dict):
        found.update({str(k).lower(): v for k, v in listed.items() if callable(v)})
    elif isinstance(listed, (list, tuple)):
        found.update({_entity_name(v): v for v in listed if callable(v)})
    return found


class AppRegistrar:
    """The registration half of the SDK worker's API, for an APP's ``configure_worker(worker)``.

    An APP that needs the SDK's own orchestrators, activities and entities (scheduled tasks,
    history export) defines ``configure_worker(worker)`` and calls the SDK's helpers with the
    object it gets (``worker.configure_scheduled_tasks()``,
    ``ExportHistoryClient(client, writer).register_worker(worker)``); what they register is
    added to the APP. An APP that imports ``durabletask.scheduled`` gets scheduled tasks
    without asking.
    """

    def __init__(self, functions: dict[str, Any], entities: dict[str, Any]) -> None:
        self.functions = functions
        self.entities = entities
        self.capabilities: set[int] = set()
        self._scheduled = False

    def add_orchestrator(self, fn: Any) -> str:
        from durabletask import task

        name = str(task.get_name(fn))
        self.functions[name] = fn
        return name

    def add_named_orchestrator(self, name: str, fn: Any) -> None:
        self.functions[name] = fn

    add_activity = add_orchestrator
    add_named_activity = add_named_orchestrator

    def add_entity(self, fn: Any, name: str | None = None) -> str:
        key = (name or _entity_name(fn)).lower()
        self.entities[key] = fn
        return key

    def add_named_entity(self, name: str, fn: Any) -> None:
        self.add_entity(fn, name)

    def add_capability(self, capability: int) -> None:
        self.capabilities.add(int(capability))

    def use_work_item_filters(self, *args: Any) -> None:
        """Accepted and ignored: the inspector's worker has its own ``--only`` filters."""

    def configure_scheduled_tasks(self) -> None:
        """Register the SDK's schedule entity and its operation orchestrator (once)."""
        if self._scheduled:
            return
        self._scheduled = True
        from durabletask.scheduled.orchestrator import execute_schedule_operation_orchestrator
        from durabletask.scheduled.schedule_entity import ENTITY_NAME, Schedule

        from engine.proto import orchestrator_service_pb2 as pb

        self.add_entity(Schedule, ENTITY_NAME)
        self.add_orchestrator(execute_schedule_operation_orchestrator)
        self.add_capability(pb.WORKER_CAPABILITY_SCHEDULED_TASKS)


def _uses_scheduled_tasks(module: ModuleType) -> bool:
    for value in vars(module).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", "")
        if isinstance(name, str) and name.startswith("durabletask.scheduled"):
            return True
    return False


def app_registrations(
    module: ModuleType, functions: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], frozenset[int]]:
    """The APP's functions, entities and extra worker capabilities, with what its
    ``configure_worker`` registers (scheduled tasks advertise their capability, as the SDK's
    ``configure_scheduled_tasks`` does).

    Raises:
        Exception: whatever ``configure_worker`` raised (the loader reports it as a load error).
    """
    registrar = AppRegistrar(dict(functions), find_entities(module))
    if _uses_scheduled_tasks(module):
        registrar.configure_scheduled_tasks()
    hook = getattr(module, "configure_worker", None)
    if callable(hook):
        hook(registrar)
    return registrar.functions, registrar.entities, frozenset(registrar.capabilities)
