"""Hold rules: which live orchestration turns the debugger holds before they are completed.

A rule is written the way ``inspector attach`` asks for it (``b``): words ``kind=…``,
``name=…`` and ``instance=…``, a bare word being a name. :func:`parse_rule` reads that text,
:meth:`HoldRule.matches` decides on one turn, and :class:`HoldGate` is what the worker asks
(from its threads) whether to hold a turn: armed, it holds the next matching turn, then disarms.

This module never imports Textual or Rich.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from engine.proto import orchestrator_service_pb2 as pb

RULE_FIELDS = ("kind", "name", "instance")
"""The fields a hold rule can set, in the order they are described."""


@dataclass(frozen=True)
class HoldRule:
    """A breakpoint for live work items: hold a turn that matches every field given.

    Attributes:
        kind: An event kind among the turn's new events (``timerFired``, ``eventRaised``...).
        name: The orchestrator's name, or the name an event of the turn carries (an event
            name, an activity or sub-orchestration name).
        instance: The instance id, or its prefix.
    """

    kind: str = ""
    name: str = ""
    instance: str = ""

    def describe(self) -> str:
        """``kind=timerFired name=x instance=y`` (``any turn`` when empty)."""
        parts = [f"{k}={v}" for k, v in vars(self).items() if v]
        return " ".join(parts) or "any turn"

    def matches(self, request: pb.OrchestratorRequest, orchestrator: str = "") -> bool:
        """Whether the orchestration work item matches this rule."""
        if self.instance and not request.instanceId.startswith(self.instance):
            return False
        kinds = [e.WhichOneof("eventType") or "" for e in request.newEvents]
        if self.kind and self.kind.lower() not in (k.lower() for k in kinds):
            return False
        if self.name:
            names = {orchestrator} if orchestrator else set()
            for event in list(request.pastEvents) + list(request.newEvents):
                names.add(_event_name(event))
            if self.name not in names:
                return False
        return True


def _event_name(event: pb.HistoryEvent) -> str:
    kind = event.WhichOneof("eventType")
    if kind is None:
        return ""
    body = getattr(event, kind)
    name = getattr(body, "name", "")
    return name if isinstance(name, str) else ""


def matches_any(
    rules: Sequence[HoldRule], request: pb.OrchestratorRequest, orchestrator: str = ""
) -> bool:
    """Whether any rule matches (no rules: every turn matches)."""
    if not rules:
        return True
    return any(rule.matches(request, orchestrator) for rule in rules)


def parse_rule(text: str) -> HoldRule:
    """The rule a line of text describes: ``kind=eventRaised name=Approval instance=sample-``.

    A word without ``=`` is a name. Each field may be given once.

    Raises:
        ValueError: the text is empty, names an unknown field, gives a field twice or gives a
            field no value (the message says which, in one line).
    """
    values: dict[str, str] = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep:
            key, value = "name", word
        if key not in RULE_FIELDS:
            raise ValueError(f"unknown field {key!r}: use kind=, name= or instance=")
        if not value:
            raise ValueError(f"{key}= needs a value")
        if key in values:
            raise ValueError(f"{key}= given twice: a rule matches one {key}")
        values[key] = value
    if not values:
        raise ValueError("an empty rule: give kind=, name= or instance=")
    return HoldRule(**values)


class HoldGate:
    """The hold rules and whether hold is armed, shared by the UI and the worker's threads.

    The UI edits the rules and arms the gate; the worker asks :meth:`take` about each computed
    turn. Taking a turn disarms the gate in the same step, so exactly one turn is held per
    arming even when several turns finish at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: tuple[HoldRule, ...] = ()
        self._armed = False

    @property
    def rules(self) -> tuple[HoldRule, ...]:
        """The rules, in the order they were added (none: any turn matches)."""
        return self._rules

    @property
    def armed(self) -> bool:
        """Whether the next matching turn is held."""
        return self._armed

    def toggle(self, text: str) -> None:
        """Add the rule ``text`` describes, or remove it if present; empty text clears all.

        Raises:
            ValueError: the text is not a rule (see :func:`parse_rule`).
        """
        if not text.strip():
            with self._lock:
                self._rules = ()
            return
        rule = parse_rule(text)
        with self._lock:
            if rule in self._rules:
                self._rules = tuple(r for r in self._rules if r != rule)
            else:
                self._rules = (*self._rules, rule)

    def toggle_armed(self) -> bool:
        """Arm the gate, or disarm it; whether it is armed now."""
        with self._lock:
            self._armed = not self._armed
            return self._armed

    def describe(self) -> str:
        """The rules, comma-separated (``any turn`` when there are none)."""
        return ", ".join(r.describe() for r in self._rules) or "any turn"

    def take(self, request: bytes, orchestrator: str = "") -> bool:
        """Whether to hold this turn (a serialized ``OrchestratorRequest``); disarms if so."""
        if not self._armed:
            return False
        turn = pb.OrchestratorRequest.FromString(request)
        with self._lock:
            if not self._armed or not matches_any(self._rules, turn, orchestrator):
                return False
            self._armed = False
            return True
