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
        found.update(registry.orchestrators)
        latest = registry.latest_versioned_orchestrators_version_name
        for name, versions in registry.versioned_orchestrators.items():
            for version, fn in versions.items():
                found[f"{name}@{version}"] = fn
            if name in latest and latest[name] in versions:
                found[name] = versions[latest[name]]
    return found


def dapr_functions(module: ModuleType) -> dict[str, Callable[..., Any]] | None:
    """The app's registered workflows and activities, or ``None`` when it builds no runtime."""
    runtimes = find_runtimes(module)
    if not runtimes:
        return None
    return registered_functions(runtimes)
