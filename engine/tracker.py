"""The interface through which the replayers report every change of open state."""

from __future__ import annotations

from collections.abc import Hashable

from engine.actions import Action, SourceLocation


class Tracker:
    """Receives every change of the replay's open state (for frame recording).

    The base class ignores everything; :class:`engine.frames.FrameRecorder` records it.
    """

    def action_added(self, action: Action) -> None:
        """An action became pending."""

    def action_removed(self, action_id: int, action: Action) -> None:
        """A pending action was confirmed by history or cancelled."""

    def task_added(
        self,
        task_id: int,
        kind: str,
        name: str,
        origin: SourceLocation | None,
        handle: object = None,
    ) -> None:
        """A task started waiting under ``task_id``; ``handle`` is the SDK task the code holds
        for it (``None`` when the code holds none, or without code)."""

    def task_removed(self, task_id: int) -> None:
        """The task waiting under ``task_id`` was resolved or cancelled."""

    def wait_added(self, key: int, name: str, origin: SourceLocation | None) -> None:
        """Code started waiting for an external event (``key``: the ``id`` of its task)."""

    def wait_removed(self, key: int) -> None:
        """An external-event wait was satisfied or cancelled."""

    def buffered_added(self, seq: Hashable, name: str, data: str | None) -> None:
        """An external event was buffered (no one waiting for it yet)."""

    def buffered_removed(self, seq: Hashable) -> None:
        """A buffered external event was consumed."""

    def awaiting(self, awaited: object) -> None:
        """The code yielded ``awaited`` (an SDK task, maybe a ``when_all`` / ``when_any``)."""
