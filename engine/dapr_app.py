"""Find a Dapr app's workflows and activities in the ``WorkflowRuntime`` it builds.

Dapr's ``@wfr.workflow`` / ``@wfr.activity`` decorators leave a zero-argument thunk at module
level; what runs is in the runtime's registry, under the registered names (``name=`` or the
function's own), wrapped so that the user function gets a ``DaprWorkflowContext`` (or a
``WorkflowActivityContext``) and its input coerced to the declared model. Those wrappers are
what this module returns, by name, so the engine calls user code exactly as Dapr's worker
does. The runtime is only read, never started (``start()`` blocks without a sidecar).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

_RUNTIME_MODULE = "dapr.ext.workflow.workflow_runtime"
VERSION_MARK = "@"
"""Between a versioned workflow's name and a version, in the app's function names."""


def versioned(
    functions: dict[str, Callable[..., Any]], name: str, pin: str | None
) -> tuple[Callable[..., Any] | None, str | None]:
    """The workflow ``name`` as Dapr's registry resolves it: a plain registration, else the
    version ``pin`` names (the latest one without a pin), with the version used.

    Raises:
        LookupError: ``name`` is a versioned workflow without the version asked for.
    """
    prefix = f"{name}{VERSION_MARK}"
    versions = {k[len(prefix) :]: fn for k, fn in functions.items() if k.startswith(prefix)}
    fn = functions.get(name)
    if not versions or (fn is not None and fn not in versions.values()):
        return fn, None
    if pin is None:
        if fn is None:
            return None, None
        return fn, next(v for v, f in versions.items() if f is fn)
    if pin not in versions:
        raise LookupError(pin)
    return versions[pin], pin


def is_runtime(value: Any) -> bool:
    """Whether ``value`` is a Dapr ``WorkflowRuntime``."""
    kind = type(value)
    return kind.__name__ == "WorkflowRuntime" and kind.__module__ == _RUNTIME_MODULE


def find_runtimes(module: ModuleType) -> list[Any]:
    """The module-level ``WorkflowRuntime`` objects of an app, in definition order."""
    found: list[Any] = []
    for value in vars(module).values():
        if is_runtime(value) and all(value is not seen for seen in found):
            found.append(value)
    return found


def _registry(runtime: Any) -> Any:
    return runtime._WorkflowRuntime__worker._registry


def registered_functions(runtimes: list[Any]) -> dict[str, Callable[..., Any]]:
    """Every workflow and activity the runtimes registered, by registered name.

    A versioned workflow is found under its name as the latest version (the one a new
    instance runs); its other versions under ``name@version``.
    """
    found: dict[str, Callable[..., Any]] = {}
    for runtime in runtimes:
        registry = _registry(runtime)
        found.update(registry.activities)
        latest = registry.latest_versioned_orchestrators_version_name
        for name, versions in registry.versioned_orchestrators.items():
            for version, fn in versions.items():
                found[f"{name}{VERSION_MARK}{version}"] = fn
            if name in latest and latest[name] in versions:
                found[name] = versions[latest[name]]
        found.update(registry.orchestrators)  # a plain registration wins, as in Dapr's lookup
    return found


def dapr_functions(module: ModuleType) -> dict[str, Callable[..., Any]] | None:
    """The app's registered workflows and activities, or ``None`` when it builds no runtime."""
    runtimes = find_runtimes(module)
    if not runtimes:
        return None
    return registered_functions(runtimes)
