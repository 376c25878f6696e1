"""What a ``TaskHubGrpcWorker`` the user's app builds says: its registry and its options.

``--app MODULE:ATTR`` (or ``FILE.py:ATTR``) names a worker the app builds, or a function of no
arguments that returns one. The worker is read, never started: no channel is opened and no
thread runs. Its registry gives the functions under the names they were registered with
(``add_orchestrator`` uses the function's name, the ``add_named_*`` forms any other name), and
its options are kept in an :class:`AppOptions` that ``replay``, ``open`` and ``worker`` honour.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from engine.defaults import DEFAULT_MAXIMUM_TIMER_INTERVAL
from engine.errors import AppLoadError


@dataclass(frozen=True)
class AppOptions:
    """The options of the app's worker (a plain app has the SDK worker's defaults).

    Attributes:
        configured: Whether the options were read from a worker the app builds.
        maximum_timer_interval: Longest single durable timer; longer ones are chunked.
        exception_properties_provider: Adds custom properties to failure details, or None.
        data_converter: The worker's data converter (None: the SDK's default JSON one).
        payload_store: The worker's large-payload store, or None.
        versioning: The worker's ``VersioningOptions``, or None.
        concurrency: The worker's ``ConcurrencyOptions``, or None.
        capabilities: Extra capabilities the worker advertises (``add_capability``).
    """

    configured: bool = False
    maximum_timer_interval: timedelta | None = DEFAULT_MAXIMUM_TIMER_INTERVAL
    exception_properties_provider: Any = None
    data_converter: Any = None
    payload_store: Any = None
    versioning: Any = None
    concurrency: Any = None
    capabilities: frozenset[int] = field(default_factory=frozenset)

    def worker_capabilities(self) -> tuple[int, ...]:
        """What the worker advertises in ``GetWorkItemsRequest``, as the SDK's worker does:
        large payloads when it has a payload store, then the extra ones, in order."""
        from engine.proto import orchestrator_service_pb2 as pb

        first = (pb.WORKER_CAPABILITY_LARGE_PAYLOADS,) if self.payload_store is not None else ()
        return first + tuple(sorted(self.capabilities))

    def concurrency_limits(self) -> dict[str, int]:
        """The most work items of each kind (``turn``, ``activity``, ``entity``) the app's
        worker runs at once (its ``ConcurrencyOptions``); empty for a plain app."""
        options = self.concurrency
        if options is None:
            return {}
        fields = {
            "turn": "maximum_concurrent_orchestration_work_items",
            "activity": "maximum_concurrent_activity_work_items",
            "entity": "maximum_concurrent_entity_work_items",
        }
        limits = {kind: getattr(options, name, None) for kind, name in fields.items()}
        return {kind: max(1, int(n)) for kind, n in limits.items() if isinstance(n, int)}


@dataclass(frozen=True)
class WorkerRegistry:
    """The functions a worker registered, by the names it registered them under."""

    orchestrators: dict[str, Callable[..., Any]]
    activities: dict[str, Callable[..., Any]]
    entities: dict[str, Any]


def split_attr(spec: str) -> tuple[str, str | None]:
    """``MODULE:ATTR`` or ``FILE.py:ATTR`` -> (``MODULE``, ``ATTR``); no attribute: None.

    A Windows drive (``C:\\app.py``) is not an attribute.
    """
    head, sep, tail = spec.rpartition(":")
    if not sep or not head or not tail.isidentifier() or (len(head) == 1 and head.isalpha()):
        return spec, None
    return head, tail


def resolve_worker(module: Any, spec: str, attr: str) -> Any:
    """The ``TaskHubGrpcWorker`` that ``ATTR`` of the app's module is or returns.

    Raises:
        AppLoadError: no such attribute, it is not a worker, or calling it raised.
    """
    from durabletask.worker import TaskHubGrpcWorker

    value = getattr(module, attr, None)
    if value is None:
        raise AppLoadError(f"{spec}: the app defines no '{attr}'")
    if inspect.isfunction(value):
        try:
            inspect.signature(value).bind()
        except TypeError:
            raise AppLoadError(
                f"{spec}: '{attr}' takes arguments; expected a TaskHubGrpcWorker "
                "or a function of no arguments returning one"
            ) from None
        try:
            value = value()
        except Exception as exc:  # noqa: BLE001 - user code may raise anything
            raise AppLoadError(f"{spec}: '{attr}()' raised {type(exc).__name__}: {exc}") from None
        if not isinstance(value, TaskHubGrpcWorker):
            raise AppLoadError(
                f"{spec}: '{attr}()' returned {_kind(value)}, not a "
                "durabletask.worker.TaskHubGrpcWorker"
            )
    if not isinstance(value, TaskHubGrpcWorker):
        raise AppLoadError(
            f"{spec}: '{attr}' is {_kind(value)}, not a durabletask.worker.TaskHubGrpcWorker "
            "(or a function of no arguments returning one)"
        )
    return value


def _kind(value: Any) -> str:
    if isinstance(value, type):
        return f"the class {value.__name__}"
    return "None" if value is None else f"a {type(value).__name__}"


def _private(worker: Any, name: str, default: Any = None) -> Any:
    # The SDK keeps its options in private fields; read each by name, tolerating their absence.
    return getattr(worker, name, default)


def read_worker(worker: Any) -> tuple[WorkerRegistry, AppOptions]:
    """The registry and options of a ``TaskHubGrpcWorker``, read without starting it."""
    registry = _private(worker, "_registry")
    found = WorkerRegistry(
        orchestrators=dict(getattr(registry, "orchestrators", {}) or {}),
        activities=dict(getattr(registry, "activities", {}) or {}),
        entities=dict(getattr(registry, "entities", {}) or {}),
    )
    converter = _private(worker, "_data_converter")
    options = AppOptions(
        configured=True,
        maximum_timer_interval=_private(
            worker, "_maximum_timer_interval", DEFAULT_MAXIMUM_TIMER_INTERVAL
        ),
        exception_properties_provider=_private(worker, "_exception_properties_provider"),
        data_converter=None if _is_default_converter(converter) else converter,
        payload_store=_private(worker, "_payload_store"),
        versioning=getattr(registry, "versioning", None),
        concurrency=_private(worker, "_concurrency_options"),
        capabilities=frozenset(_private(worker, "_capabilities", ()) or ()),
    )
    return found, options


def _is_default_converter(converter: Any) -> bool:
    if converter is None:
        return True
    try:
        from durabletask.serialization import JsonDataConverter
    except ImportError:  # pragma: no cover - older SDKs
        return False
    return type(converter) is JsonDataConverter
