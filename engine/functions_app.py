"""Durable Functions apps written with ``durabletask-azurefunctions`` (``DFApp``).

Such an app declares its functions with decorators on a function-app object
(``@app.orchestration_trigger(context_name=...)``, ``@app.activity_trigger(input_name=...)``,
``@app.entity_trigger(...)``); the module's names then hold the Functions library's builders,
not the functions. The Functions host hands an orchestration trigger the base64
``OrchestratorRequest`` that ``replay`` reads, and the package runs the SDK's executor on the
orchestrator behind the trigger, registered under the name the request's ``executionStarted``
gives: the function's name. So the registry is read from the app's ``get_functions()``:

- an orchestration trigger gives the orchestrator it wraps, under the function's name (and its
  ``orchestration=`` name, when set); it is called as the SDK calls orchestrators;
- an activity trigger takes its input alone, as the parameter ``input_name`` names: it is
  registered under the function's name (and its ``activity=`` name) as a ``(ctx, input)``
  function calling it that way;
- an entity trigger gives the entity function it wraps, under the function's name.

Nothing of the Functions library is imported here: an app that uses it has imported it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from engine.app_options import WorkerRegistry
from engine.errors import AppLoadError

ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
ENTITY_TRIGGER = "entityTrigger"


def is_function_app(value: Any) -> bool:
    """Whether ``value`` is a Functions app object (``DFApp``, ``FunctionApp``)."""
    library = sys.modules.get("azure.functions.decorators.function_app")
    register = getattr(library, "FunctionRegister", None)
    return register is not None and isinstance(value, register)


def function_apps(module: ModuleType) -> list[Any]:
    """The Functions app objects a module defines (usually one, ``app``)."""
    if "azure.functions" not in sys.modules:
        return []
    found: list[Any] = []
    for value in list(vars(module).values()):
        if is_function_app(value) and not any(value is seen for seen in found):
            found.append(value)
    return found


_INDEXED: dict[int, tuple[Any, list[Any]]] = {}


def _functions(app: Any) -> list[Any]:
    # ``get_functions()`` indexes the app and refuses to run twice (it sees every name again),
    # so its answer is kept. Building logs warnings meant for the Functions host (auth levels
    # of non-HTTP apps); they say nothing about durable functions.
    known = _INDEXED.get(id(app))
    if known is not None and known[0] is app:
        return known[1]
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        found = list(app.get_functions())
        _INDEXED[id(app)] = (app, found)
        return found
    except Exception as exc:  # noqa: BLE001 - the app's declarations may be wrong in any way
        raise AppLoadError(
            f"the Functions app's get_functions() raised {type(exc).__name__}: {exc}"
        ) from None
    finally:
        logging.disable(previous)


def _trigger(function: Any) -> tuple[str, Any]:
    trigger = function.get_trigger()
    kind = trigger.get_binding_name() if trigger is not None else ""
    return str(kind), trigger


def _names(function: Any, alias: str | None) -> list[str]:
    name = str(function.get_function_name())
    return [name] if not alias or alias == name else [name, alias]


def activity_caller(user_fn: Callable[..., Any], input_name: str) -> Callable[..., Any]:
    """A ``(ctx, input)`` activity that calls an activity trigger's function with its input
    alone, as the parameter ``input_name``; type discovery sees that parameter as the input."""

    @functools.wraps(user_fn)
    def call(ctx: Any, value: Any) -> Any:
        return user_fn(**{input_name: value})

    try:
        own = inspect.signature(user_fn)
    except (TypeError, ValueError):
        return call
    param = own.parameters.get(input_name)
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    value = inspect.Parameter(
        input_name,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        annotation=param.annotation if param is not None else inspect.Parameter.empty,
    )
    call.__signature__ = own.replace(parameters=[context, value])  # type: ignore[attr-defined]
    del call.__wrapped__  # type: ignore[attr-defined]  # the signature above is the one to read
    return call


def function_app_registry(app: Any) -> WorkerRegistry:
    """The orchestrators, activities and entities a Functions app declares, by name."""
    orchestrators: dict[str, Callable[..., Any]] = {}
    activities: dict[str, Callable[..., Any]] = {}
    entities: dict[str, Any] = {}
    for function in _functions(app):
        kind, trigger = _trigger(function)
        handle = function.get_user_function()
        if kind == ORCHESTRATION_TRIGGER:
            user_fn = getattr(handle, "orchestrator_function", handle)
            for name in _names(function, getattr(trigger, "orchestration", None)):
                orchestrators[name] = user_fn
        elif kind == ACTIVITY_TRIGGER:
            caller = activity_caller(handle, str(trigger.name))
            for name in _names(function, getattr(trigger, "activity", None)):
                activities[name] = caller
        elif kind == ENTITY_TRIGGER:
            user_fn = getattr(handle, "entity_function", handle)
            for name in _names(function, getattr(trigger, "entity_name", None)):
                entities[name.lower()] = user_fn
    return WorkerRegistry(orchestrators, activities, entities)


def module_registry(module: ModuleType) -> WorkerRegistry | None:
    """The registry of every Functions app in ``module``, or None when it has none."""
    apps = function_apps(module)
    if not apps:
        return None
    merged = WorkerRegistry({}, {}, {})
    for app in apps:
        found = function_app_registry(app)
        merged.orchestrators.update(found.orchestrators)
        merged.activities.update(found.activities)
        merged.entities.update(found.entities)
    return merged


def functions_registry(module: ModuleType, attr: str | None) -> WorkerRegistry | None:
    """What ``--app MODULE`` (every Functions app in it) or ``--app MODULE:ATTR`` (ATTR a
    Functions app) registers; None when the app is not a Functions app."""
    if attr is None:
        return module_registry(module)
    value = getattr(module, attr, None)
    return function_app_registry(value) if is_function_app(value) else None
