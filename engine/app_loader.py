"""Find the user's orchestrators and activities in a Python file or an importable module.

Functions are found by name among the module's module-level functions, the way the
durabletask SDK registers them (``fn.__name__``). A module may also list explicit names in a
module-level ``ORCHESTRATORS`` / ``ACTIVITIES`` mapping of name to function.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

from engine.app_options import AppOptions, read_worker, resolve_worker, split_attr
from engine.errors import AppLoadError, OrchestratorNotFound
from engine.functions_app import functions_registry

if TYPE_CHECKING:
    from engine.history import OrchestrationRequest


@dataclass(frozen=True)
class UserApp:
    """The user's module and the functions it offers, by name."""

    spec: str
    """What the user gave (a file path or a module name)."""
    module: ModuleType
    """The imported module."""
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    """Every module-level function, by name (orchestrators and activities alike)."""
    entities: dict[str, Any] = field(default_factory=dict)
    """The durable entities, by lowercased name (see :mod:`engine.entity_app`)."""
    options: AppOptions = field(default_factory=AppOptions)
    """The options of the worker the app builds (``MODULE:ATTR``); a plain app: the defaults."""

    def orchestrator(self, name: str) -> Callable[..., Any]:
        """Return the orchestrator called ``name``.

        Raises:
            OrchestratorNotFound: no module-level function has that name.
        """
        fn = self.functions.get(name)
        if fn is None:
            known = ", ".join(sorted(self.functions)) or "none"
            raise OrchestratorNotFound(
                f"orchestrator '{name}' is not defined in {self.spec} (functions: {known})"
            )
        return fn

    def orchestrator_for(self, request: OrchestrationRequest) -> Callable[..., Any] | None:
        """Return the orchestrator the request's ``executionStarted`` event names.

        The one check that a request and an APP belong together, made before anything runs
        (``inspector replay`` and ``inspector open --app`` both rely on it).

        Args:
            request: The loaded request.

        Returns:
            The orchestrator function, or ``None`` when the request has no ``executionStarted``
            event (an extended session's turn names no orchestrator).

        Raises:
            OrchestratorNotFound: the request names an orchestrator APP does not define.
        """
        name = request.orchestration_name
        return None if name is None else self.orchestrator(name)

    def resolved(self, request: OrchestrationRequest) -> OrchestrationRequest:
        """The request with its payload tokens resolved by the app's payload store (the request
        itself when the app has none, or it holds no token)."""
        store = self.options.payload_store
        if store is None:
            return request
        from engine.history import OrchestrationRequest
        from engine.payloads import resolve_tokens

        msg = type(request.proto)()
        msg.CopyFrom(request.proto)
        return OrchestrationRequest.from_proto(msg) if resolve_tokens(msg, store) else request

    def activity(self, name: str) -> Callable[..., Any] | None:
        """Return the activity called ``name``, or ``None``."""
        return self.functions.get(name)

    @property
    def source_file(self) -> str | None:
        """The module's source file, if it has one."""
        return getattr(self.module, "__file__", None)


def _functions_of(module: ModuleType) -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for name, value in vars(module).items():
        if name.startswith("__"):
            continue
        if inspect.isfunction(value) or inspect.iscoroutinefunction(value):
            found[name] = value
    for registry in ("ORCHESTRATORS", "ACTIVITIES"):
        extra = getattr(module, registry, None)
        if isinstance(extra, dict):
            found.update({str(k): v for k, v in extra.items() if callable(v)})
    return found


def _import_error_line(spec: str, exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else spec
        return f"cannot import {spec}: {where}: SyntaxError: {exc.msg}"
    frames = traceback.extract_tb(exc.__traceback__)
    user = [f for f in frames if "importlib" not in f.filename]
    where = f" at {user[-1].filename}:{user[-1].lineno}" if user else ""
    return f"cannot import {spec}{where}: {type(exc).__name__}: {exc}"


def load_app(spec: str) -> UserApp:
    """Import the user's APP: a ``.py`` file path or an importable module name, optionally
    followed by ``:ATTR`` naming the ``TaskHubGrpcWorker`` it builds (see
    :mod:`engine.app_options`).

    Raises:
        AppLoadError: the file is missing, importing it raised (the message names the file
            and line), or ATTR is missing or not a worker.
    """
    target, attr = split_attr(spec)
    module = _import(target)
    from engine import sdk

    if sdk.is_dapr():
        return _dapr_app(spec, module, attr)
    from engine.entity_app import app_registrations

    options = AppOptions()
    durable = functions_registry(module, attr)  # a Durable Functions app's (DFApp)
    if durable is not None:
        own = _functions_of(module) if attr is None else {}
        functions = {**own, **durable.activities, **durable.orchestrators}
    elif attr is None:
        functions = _functions_of(module)
    else:
        registry, options = read_worker(resolve_worker(module, spec, attr))
        functions = {**registry.activities, **registry.orchestrators}
    try:
        functions, entities, capabilities = app_registrations(module, functions)
    except Exception as exc:  # noqa: BLE001 - the APP's configure_worker may raise anything
        raise AppLoadError(_import_error_line(spec, exc)) from None
    if not capabilities <= options.capabilities:
        options = replace(options, capabilities=options.capabilities | capabilities)
    if durable is not None:
        entities = {**entities, **durable.entities}
    return UserApp(
        spec=spec, module=module, functions=functions, entities=entities, options=options
    )


def _dapr_app(spec: str, module: ModuleType, attr: str | None) -> UserApp:
    """A Dapr app: its functions are the ``WorkflowRuntime``'s registrations (or, for a plain
    module, its functions); Dapr's worker never chunks timers and has no entities."""
    from engine.dapr_app import dapr_functions, is_runtime, registered_functions

    if attr is None:
        functions = dapr_functions(module)
        if functions is None:
            functions = _functions_of(module)
    else:
        value = getattr(module, attr, None)
        if not is_runtime(value):
            raise AppLoadError(f"{spec}: '{attr}' is not a dapr.ext.workflow.WorkflowRuntime")
        functions = registered_functions([value])
    options = AppOptions(configured=True, maximum_timer_interval=None)
    return UserApp(spec=spec, module=module, functions=functions, options=options)


def import_app(spec: str) -> None:
    """Import the APP's module ahead of the engine (its imports choose the SDK flavour, see
    :mod:`engine.sdk`); a module that fails to import is left for :func:`load_app` to report."""
    target = split_attr(spec)[0]
    try:
        _PRELOADED[target] = _import_once(target)
    except AppLoadError:
        pass


def _file_module_name(path: str) -> str:
    """The name a file is imported under: its own (as ``python -m`` or an import would give
    it), unless a different module of that name is already loaded."""
    name = os.path.splitext(os.path.basename(path))[0]
    fallback = f"_inspector_app_{name}"
    if not name.isidentifier():
        return fallback
    mine = os.path.realpath(path)
    loaded = sys.modules.get(name)
    if loaded is not None:
        return name if getattr(loaded, "__file__", None) == mine else fallback
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return fallback
    if found is None or found.origin == mine:
        return name
    return fallback  # the name is another module's (the standard library's, say)


_PRELOADED: dict[str, ModuleType] = {}


def _import(spec: str) -> ModuleType:
    found = _PRELOADED.pop(spec, None)  # imported by import_app: not executed a second time
    return found if found is not None else _import_once(spec)


def _import_once(spec: str) -> ModuleType:
    # os.path rather than pathlib: pathlib's import costs more than a one-event replay.
    path = spec
    looks_like_file = spec.endswith(".py") or os.sep in spec or os.path.isfile(path)
    try:
        if looks_like_file:
            if not os.path.isfile(path):
                raise AppLoadError(f"no such app file: {spec}")
            module_name = _file_module_name(path)
            import_spec = importlib.util.spec_from_file_location(
                module_name, os.path.realpath(path)
            )
            if import_spec is None or import_spec.loader is None:
                raise AppLoadError(f"cannot import {spec}: not a Python file")
            module = importlib.util.module_from_spec(import_spec)
            sys.modules[module_name] = module
            folder = os.path.dirname(os.path.realpath(path))
            if folder not in sys.path:
                sys.path.insert(0, folder)
            import_spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(spec)
    except AppLoadError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and spec.startswith(exc.name):
            raise AppLoadError(f"no such app module: {spec}") from None
        raise AppLoadError(_import_error_line(spec, exc)) from None
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything at import
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise AppLoadError(_import_error_line(spec, exc)) from None
    return module
