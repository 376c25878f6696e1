"""An app whose worker has its own data converter: ``Decimal`` and ``datetime`` payloads.

``--app samples.converter_worker:worker``. The converter writes a ``Decimal`` as
``{"$decimal": "1.50"}`` and a ``datetime`` as ``{"$datetime": "..."}`` and reads them back, so
the orchestrator and the activity see the values they sent. Read with the SDK's default JSON
converter instead, the tagged dicts arrive as they are and the arithmetic fails.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import datetime
from decimal import Decimal
from typing import Any

from durabletask import task
from durabletask.serialization import DataConverter
from durabletask.worker import TaskHubGrpcWorker


def _tagged(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def _untagged(d: dict[str, Any]) -> Any:
    if set(d) == {"$decimal"}:
        return Decimal(d["$decimal"])
    if set(d) == {"$datetime"}:
        return datetime.fromisoformat(d["$datetime"])
    return d


class TaggedConverter(DataConverter):
    """JSON with ``Decimal`` and ``datetime`` kept as themselves."""

    def serialize(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, default=_tagged, sort_keys=True)

    def deserialize(self, data: str | None, target_type: type | None = None) -> Any:
        return None if not data else json.loads(data, object_hook=_untagged)

    def coerce(self, value: Any, target_type: type | None = None) -> Any:
        return value


def price(ctx: task.ActivityContext, order: dict[str, Any]) -> Decimal:
    """The price of ``order["qty"]`` (a Decimal) units at 2.10 each."""
    return order["qty"] * Decimal("2.10")


def invoice(ctx: task.OrchestrationContext, order: dict[str, Any]) -> Generator[Any, Any, Any]:
    """Price an order, add a fee, stamp it with the orchestration's clock."""
    total = yield ctx.call_activity(price, input=order)
    ctx.set_custom_status({"subtotal": total})
    return {"total": total + Decimal("0.25"), "at": ctx.current_utc_datetime}


def build_worker(host_address: str | None = None) -> TaskHubGrpcWorker:
    """The app's worker, configured (not started)."""
    w = TaskHubGrpcWorker(host_address=host_address, data_converter=TaggedConverter())
    w.add_orchestrator(invoice)
    w.add_activity(price)
    return w


worker = build_worker()
