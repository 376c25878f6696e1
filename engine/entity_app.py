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
