"""An app that builds its own ``TaskHubGrpcWorker`` with options, as real SDK apps do.

Give it to the inspector as ``--app samples.configured_worker:worker`` (the worker object) or
``--app samples.configured_worker:build_worker`` (the function that builds it): the inspector
takes the registry and the options below without starting the worker.

* ``maximum_timer_interval`` of one second: :func:`nap` (a 3-second timer) is split in chunks.
* an ``exception_properties_provider``: an :class:`OutOfStock` failure carries
  ``{"error_code": 51}`` in its failure details, in an activity's failure and in the
  orchestration's.
* functions made by a factory: the SDK registers them under their ``__name__``
  (``restock_item``), not under the module-level variable they are bound to.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from datetime import timedelta
from typing import Any

from durabletask import task
from durabletask.worker import TaskHubGrpcWorker


class OutOfStock(Exception):
    """A user exception with an error code the provider reports."""

    def __init__(self, item: str, code: int = 51) -> None:
        super().__init__(f"{item} is out of stock")
        self.code = code


class ErrorCodes:
    """An ``ExceptionPropertiesProvider``: the error code of an :class:`OutOfStock`."""

    def get_exception_properties(self, exception: Exception) -> Mapping[str, Any] | None:
        if isinstance(exception, OutOfStock):
            return {"error_code": exception.code}
        return None


def reserve(ctx: task.ActivityContext, item: str) -> str:
    """Fails for anything called ``"gold"``."""
    if item == "gold":
        raise OutOfStock(item)
    return f"reserved {item}"


def _make_restock() -> Callable[[task.ActivityContext, str], str]:
    def restock_item(ctx: task.ActivityContext, item: str) -> str:
        return f"restocked {item}"

    return restock_item


restock = _make_restock()  # registered by the SDK as 'restock_item'


def order(ctx: task.OrchestrationContext, item: str) -> Generator[task.Task[Any], Any, str]:
    """Reserve (which may fail with OutOfStock), then restock by the factory-made name."""
    reserved = yield ctx.call_activity(reserve, input=item)
    restocked = yield ctx.call_activity("restock_item", input=item)
    return f"{reserved}; {restocked}"


def order_or_fail(ctx: task.OrchestrationContext, item: str) -> Generator[Any, Any, str]:
    """Fails the orchestration itself with an OutOfStock (properties on the outer failure)."""
    yield ctx.create_timer(timedelta(seconds=0))
    if item == "gold":
        raise OutOfStock(item, code=52)
    return item


def nap(ctx: task.OrchestrationContext, _: Any) -> Generator[task.Task[Any], Any, str]:
    """A 3-second timer: split into 1-second chunks by this worker's option."""
    yield ctx.create_timer(timedelta(seconds=3))
    return "rested"


def build_worker(host_address: str | None = None) -> TaskHubGrpcWorker:
    """The app's worker, configured (not started)."""
    w = TaskHubGrpcWorker(
        host_address=host_address,
        maximum_timer_interval=timedelta(seconds=1),
        exception_properties_provider=ErrorCodes(),
    )
    for orchestrator in (order, order_or_fail, nap):
        w.add_orchestrator(orchestrator)
    w.add_activity(reserve)
    w.add_activity(restock)
    return w


worker = build_worker()
