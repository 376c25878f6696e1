"""The legacy Durable Functions shape of entity messages: ``eventSent`` and ``eventRaised``.

The Functions host rewrites an orchestration's entity messages into the old entity protocol
before they reach history: a call, signal, lock request or release is an ``eventSent`` to the
entity's id (``@name@key``) whose input is a JSON request message (``{"op", "signal", "id",
"lockset", ...}``), and a reply is an ``eventRaised`` named after the request's ``id`` whose
input is a JSON response message (``{"result": "<json text>"}``, with ``exceptionType`` or a
``failureDetails`` object when the operation failed). The SDK's executor accepts this shape
(``ENTITIES.md`` 3.6); this module reads it, for the code replay and the history-only one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.failure_details import FailureDetails


def message_target(message: Any) -> str | None:
    """The entity a ``SendEntityMessageAction`` goes to, as its ``eventSent`` names it.

    A lock request goes to the entity at its ``position`` in the lock set (``None`` when the
    position is outside it).
    """
    which = message.WhichOneof("EntityMessageType")
    if which == "entityLockRequested":
        lock = message.entityLockRequested
        return lock.lockSet[lock.position] if 0 <= lock.position < len(lock.lockSet) else None
    if which is None:
        return None
    return str(getattr(message, which).targetInstanceId.value)


def request_id(raw_input: str) -> Any:
    """The ``id`` of the request message an ``eventSent`` carries (what its reply is named).

    Raises:
        RuntimeError: the input is not JSON or has no ``id`` (the SDK's message).
    """
    try:
        return json.loads(raw_input)["id"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RuntimeError(f"Could not parse event ID from eventSent input '{raw_input}'") from exc


def is_error_response(response: Any) -> bool:
    """Whether a decoded response message reports a failed operation."""
    return isinstance(response, dict) and (
        "exceptionType" in response or isinstance(response.get("failureDetails"), dict)
    )


def response_failure(response: dict[str, Any], content: Any) -> FailureDetails:
    """The failure a failed response message reports.

    A ``failureDetails`` object (DurableTask.Core's PascalCase shape) wins; otherwise the type
    is ``exceptionType`` and the message is the decoded ``result`` (``content``).
    """
    details = response.get("failureDetails")
    if isinstance(details, dict):
        return _core_failure(details)
    message = "" if content is None else str(content)
    return FailureDetails(error_type=str(response.get("exceptionType") or ""), message=message)


def _core_failure(fd: dict[str, Any]) -> FailureDetails:
    inner = fd.get("InnerFailure")
    stack = fd.get("StackTrace")
    properties = fd.get("Properties")
    return FailureDetails(
        error_type=str(fd.get("ErrorType") or ""),
        message=str(fd.get("ErrorMessage") or ""),
        stack_trace=str(stack) if stack is not None else None,
        inner=_core_failure(inner) if isinstance(inner, dict) else None,
        non_retriable=bool(fd.get("IsNonRetriable", False)),
        properties=(
            {str(k): v for k, v in properties.items()} if isinstance(properties, Mapping) else {}
        ),
    )


# --- reading the shape without code (history-only replay) ------------------------------


@dataclass(frozen=True, slots=True)
class LegacyRequest:
    """What an ``eventSent`` to an entity asks, read from its request message."""

    kind: str
    """``call``, ``signal``, ``lock`` or ``release``."""
    request_id: str
    """The name its reply (``eventRaised``) will carry; for a release, the critical section."""
    label: str
    """``@name@key operation`` for a call or signal; the lock set for a lock request."""


def read_request(instance_id: str, name: str, raw_input: str | None) -> LegacyRequest | None:
    """The entity request an ``eventSent`` carries (``None``: not one, an ordinary event)."""
    if not instance_id.startswith("@") or not raw_input:
        return None
    try:
        body = json.loads(raw_input)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return None
    rid = body["id"]
    if name == "release":
        return LegacyRequest("release", rid, instance_id)
    lock_set = body.get("lockset")
    if isinstance(lock_set, list) and lock_set:
        return LegacyRequest("lock", rid, ", ".join(_entity_text(e) for e in lock_set))
    kind = "signal" if body.get("signal") is True else "call"
    return LegacyRequest(kind, rid, f"{instance_id} {body.get('op', '')}".rstrip())


def _entity_text(entity: Any) -> str:
    # A lock set holds entity ids as text (``@name@key``) or as {"name", "key"} objects.
    if isinstance(entity, dict):
        return f"@{entity.get('name', '')}@{entity.get('key', '')}"
    return str(entity)


def reply_failed(raw_input: str | None) -> bool:
    """Whether an ``eventRaised`` reply reports a failed operation (history-only view)."""
    if not raw_input:
        return False
    try:
        return is_error_response(json.loads(raw_input))
    except ValueError:
        return False
