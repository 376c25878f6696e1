"""A sequence view of a request's events that converts only the events looked at."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from engine.history import HistoryEvent, OrchestrationRequest


class EventList(Sequence[HistoryEvent]):
    """The request's events, past then new, read one at a time when the request allows it."""

    def __init__(self, request: OrchestrationRequest) -> None:
        one: Any = getattr(request, "event", None)
        if callable(one):
            self._get: Callable[[int], HistoryEvent] = one
            self._len = len(request)  # type: ignore[arg-type]
        else:
            events = request.events
            self._get = events.__getitem__
            self._len = len(events)

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> HistoryEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[HistoryEvent]: ...

    def __getitem__(self, index: int | slice) -> HistoryEvent | Sequence[HistoryEvent]:
        if isinstance(index, slice):
            return [self._get(i) for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        return self._get(index)
