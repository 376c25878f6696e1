"""Sample durable entities and the orchestrations that use them.

Modelled on the SDK's own entity examples: a function entity (``counter``), a class entity
(``Account``), locking (a transfer in a critical section), a signal from the client, delete, and
the failure paths (an operation that raises, a misused critical section). Used by
:mod:`samples.record_entities` to record real SDK turns and batches, and by the tests and the
entity bench.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from durabletask import task
from durabletask.entities import DurableEntity, EntityContext, EntityInstanceId


def counter(ctx: EntityContext, input: Any) -> Any:
    """A function entity: ``add``, ``get``, ``reset``, ``boom`` (raises), ``delete``."""
    operation = ctx.operation
    if operation == "add":
        value = ctx.get_state(int, 0) + int(input or 0)
        ctx.set_state(value)
        return value
    if operation == "get":
        return ctx.get_state(int, 0)
    if operation == "reset":
        ctx.set_state(0)
        return None
    if operation == "boom":
        ctx.set_state(-1)
        raise ValueError("kaboom")
    if operation == "delete":
        ctx.set_state(None)
        return None
    if operation == "notify":
        ctx.signal_entity(EntityInstanceId("counter", f"{ctx.entity_id.key}-copy"), "add", input)
        return None
    raise ValueError(f"unknown operation {operation!r}")


class Account(DurableEntity):
    """A class entity: a balance with ``deposit``, ``withdraw`` (may fail) and ``balance``."""

    def deposit(self, amount: int) -> int:
        balance = self.get_state(int, 0) + amount
        self.set_state(balance)
        return balance

    def withdraw(self, amount: int) -> int:
        balance = self.get_state(int, 0)
        if amount > balance:
            raise ValueError(f"insufficient funds: {balance} < {amount}")
        self.set_state(balance - amount)
        return balance - amount

    def balance(self) -> int:
        return self.get_state(int, 0)


ENTITIES: list[Any] = [counter, Account]


def _counter(key: str) -> EntityInstanceId:
    return EntityInstanceId("counter", key)


def _account(key: str) -> EntityInstanceId:
    return EntityInstanceId("Account", key)


def entity_counter(ctx: task.OrchestrationContext, key: str) -> Any:
    """Signal, then call, a function entity; return what it counted."""
    ctx.signal_entity(_counter(key), "add", 5)
    after = yield ctx.call_entity(_counter(key), "add", 1)
    total = yield ctx.call_entity(_counter(key), "get")
    return [after, total]


def entity_account(ctx: task.OrchestrationContext, key: str) -> Any:
    """Call a class entity; a failing withdrawal is caught as the SDK surfaces it."""
    yield ctx.call_entity(_account(key), "deposit", 10)
    try:
        yield ctx.call_entity(_account(key), "withdraw", 100)
        outcome = "withdrawn"
    except task.TaskFailedError as err:
        outcome = f"{err.details.error_type}: {err.details.message}"
    balance = yield ctx.call_entity(_account(key), "balance")
    return {"balance": balance, "outcome": outcome}


def entity_transfer(ctx: task.OrchestrationContext, key: str) -> Any:
    """Lock two accounts and move money between them in a critical section."""
    source, target = _account(f"{key}-a"), _account(f"{key}-b")
    yield ctx.call_entity(source, "deposit", 50)
    with (yield ctx.lock_entities([target, source])):
        yield ctx.call_entity(source, "withdraw", 20)
        yield ctx.call_entity(target, "deposit", 20)
    ctx.signal_entity(_counter(key), "add", 1)
    a = yield ctx.call_entity(source, "balance")
    b = yield ctx.call_entity(target, "balance")
    return [a, b]


def entity_lock_return_inside(ctx: task.OrchestrationContext, key: str) -> Any:
    """Return while holding locks: the completion releases them (before it, as the SDK does)."""
    yield ctx.lock_entities([_counter(f"{key}-x"), _counter(f"{key}-y")])
    value = yield ctx.call_entity(_counter(f"{key}-y"), "add", 2)
    return value


def entity_lock_misuse(ctx: task.OrchestrationContext, key: str) -> Any:
    """Call an entity outside the lock set: the SDK's critical-section rule fails the turn."""
    with (yield ctx.lock_entities([_counter(f"{key}-locked")])):
        yield ctx.call_entity(_counter(f"{key}-other"), "get")
    return "unreachable"


def entity_failure(ctx: task.OrchestrationContext, key: str) -> Any:
    """An entity operation raises and the orchestration does not catch it: FAILED."""
    yield ctx.call_entity(_counter(key), "boom")
    return "unreachable"


def entity_delete(ctx: task.OrchestrationContext, key: str) -> Any:
    """Count, delete the entity, read it again (back to its default)."""
    yield ctx.call_entity(_counter(key), "add", 7)
    yield ctx.call_entity(_counter(key), "delete")
    after = yield ctx.call_entity(_counter(key), "get")
    return after


def entity_timed_signal(ctx: task.OrchestrationContext, key: str) -> Any:
    """A signal for later (``signal_time``), and one to a function entity that signals on."""
    ctx.signal_entity(_counter(key), "add", 1, signal_time=ctx.current_utc_datetime)
    ctx.signal_entity(_counter(key), "notify", 4)
    yield ctx.create_timer(timedelta(seconds=0.2))
    uuid = ctx.new_uuid()
    value = yield ctx.call_entity(_counter(key), "get")
    return [value, uuid]


ORCHESTRATORS: list[Any] = [
    entity_counter,
    entity_account,
    entity_transfer,
    entity_lock_return_inside,
    entity_lock_misuse,
    entity_failure,
    entity_delete,
    entity_timed_signal,
]
