"""Breakpoints, and the one rule that says whether an event or a step matches them.

The session moves with it (:meth:`engine.session.ReplaySession.find`) and the UI marks history
rows with it (:func:`row_marker`): both go through :func:`event_matcher`, so a row is marked
exactly when the session would stop there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.frames import Frame

EventMatcher = Callable[[int, str, "str | None"], bool]
"""``(index, kind, display name) -> bool``: whether an event matches."""


@dataclass(frozen=True)
class Breakpoint:
    """Stop at events matching every field given (``None`` matches anything).

    Attributes:
        index: an event index.
        kind: an event kind, e.g. ``taskCompleted`` (case-insensitive).
        name: a task, orchestration or event name (case-insensitive).
        line: a source line (with code); ``file`` narrows it to one file.
    """

    index: int | None = None
    kind: str | None = None
    name: str | None = None
    line: int | None = None
    file: str | None = None

    @property
    def needs_frame(self) -> bool:
        """Whether matching needs the replayed frame (a source line), not the event alone."""
        return self.line is not None

    def matches_event(self, index: int, kind: str, name: str | None) -> bool:
        """Whether the event fields (index, kind, display name) match; the line is not checked.

        Args:
            index: the event index.
            kind: the event kind, e.g. ``taskCompleted``.
            name: the event's display name (completions named after their task), if any.
        """
        return event_matcher((self,))(index, kind, name)

    def matches(self, frame: Frame, names: dict[int, str | None]) -> bool:
        """Whether the frame matches this breakpoint (every field given)."""
        ev = frame.event
        if ev is None:  # before the first event: only an index can match it
            if self.kind is not None or self.name is not None:
                return False
            if self.index is not None and frame.index != self.index:
                return False
        elif not self.matches_event(frame.index, ev.kind, names.get(frame.index)):
            return False
        if self.line is not None:
            loc = frame.location
            if loc is None or loc.line != self.line:
                return False
            if self.file is not None and loc.file != self.file:
                return False
        return True

    def describe(self) -> str:
        """A short label, e.g. ``kind=taskFailed``."""
        parts = [
            f"{k}={v}"
            for k, v in (
                ("event", self.index),
                ("kind", self.kind),
                ("name", self.name),
                ("line", self.line),
            )
            if v is not None
        ]
        return " ".join(parts) or "any"


def event_matcher(breakpoints: Iterable[Breakpoint]) -> EventMatcher:
    """Whether any of these breakpoints' event fields match an event (lines are not checked).

    Kinds compare case-insensitively, names by ``casefold``; the breakpoints are prepared once,
    so scanning a long history costs one call per event.
    """
    rules = [
        (
            b.index,
            None if b.kind is None else b.kind.lower(),
            None if b.name is None else b.name.casefold(),
        )
        for b in breakpoints
    ]

    def hits(index: int, kind: str, name: str | None) -> bool:
        lowered = folded = None
        for want_index, want_kind, want_name in rules:
            if want_index is not None and want_index != index:
                continue
            if want_kind is not None:
                if lowered is None:
                    lowered = kind.lower()
                if lowered != want_kind:
                    continue
            if want_name is not None:
                if name is None:
                    continue
                if folded is None:
                    folded = name.casefold()
                if folded != want_name:
                    continue
            return True
        return False

    return hits


def row_marker(breakpoints: Iterable[Breakpoint]) -> EventMatcher:
    """Whether a history row gets a breakpoint mark: an event-only breakpoint stops there."""
    return event_matcher(b for b in breakpoints if not b.needs_frame)


def marks_event(breakpoints: Iterable[Breakpoint], index: int, kind: str, name: str | None) -> bool:
    """One row's mark (see :func:`row_marker`, which prepares the breakpoints once)."""
    return row_marker(breakpoints)(index, kind, name)


__all__ = ["Breakpoint", "EventMatcher", "event_matcher", "marks_event", "row_marker"]
