"""``inspector tap --ui``: the live app with the tap as its source of work items.

:class:`TapLiveApp` is the live app of ``attach --app`` with the embedded worker replaced by a
:class:`TapSource`: the tap's capture thread reports the same
:class:`~engine.worker.WorkItemEvent` events, posted as the same
:class:`~inspector.messages.WorkItemReported` messages, into the same work-item list; the hold
gate (``b``, ``h``) decides on the workers' orchestrator completions before they are forwarded,
and ``r`` / ``a`` forward or abandon them. The instance list shows what the sidecar lists,
plus every instance seen in the captured work items, so it works on sidecars that answer no
instance queries; an instance known only from the capture opens at its newest captured turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from engine.holds import HoldGate
from engine.live import InstanceRow
from engine.tap import Tap, TapOptions
from engine.worker import Outcome, WorkItemEvent
from inspector.live.app import LiveApp
from inspector.live.config import LiveConfig
from inspector.messages import InstancesLoaded, WorkItemReported
from inspector.widgets.live import Filters, InstancesTable

_ENDED = ("COMPLETED", "TERMINATED")
"""Turn results that end the orchestration (besides a failure)."""


@dataclass
class TapCounters:
    """The tap's counters in the terms of the status line (served counts failed ones too)."""

    received: int
    completed: int
    abandoned: int
    undelivered: int


class TapSource:
    """The tap, as the live app's source of work items (see ``WorkItemSource``).

    Args:
        options: Where the tap listens and the sidecar it forwards to.
        holds: The app's hold gate.
        report: Called with every work item event (from the tap's capture thread).
        log: Called with the tap's notices.
        on_connection: Told ``connected`` once the tap listens.
    """

    def __init__(
        self,
        options: TapOptions,
        holds: HoldGate,
        report: Callable[[WorkItemEvent], None],
        log: Callable[[str], None],
        on_connection: Callable[[str, str, float | None], None],
    ) -> None:
        self.tap = Tap(options, on_event=report, on_received=report, log=log, holds=holds)
        self._on_connection = on_connection

    @property
    def stats(self) -> TapCounters:
        """The counters the status line shows."""
        stats = self.tap.stats
        return TapCounters(
            stats.received, stats.completed + stats.failed, stats.abandoned, stats.undelivered
        )

    def start(self) -> int:
        """Start listening; the port."""
        port = self.tap.start()
        self._on_connection("connected", "", None)
        return port

    def stop(self) -> None:
        """Stop the tap (held completions are forwarded first, see docs/tap.md)."""
        self.tap.stop()

    def held_tokens(self) -> list[str]:
        """Tokens of the completions held right now."""
        return self.tap.held_tokens()

    def release_held(self, token: str) -> bool:
        """Forward a held completion."""
        return self.tap.release_held(token)

    def abandon_held(self, token: str) -> bool:
        """Abandon the work item of a held completion instead."""
        return self.tap.abandon_held(token)


def seen_instance(previous: InstanceRow | None, event: WorkItemEvent) -> InstanceRow | None:
    """The instance row an orchestrator work item tells about (None for other kinds)."""
    if event.kind != "orchestrator":
        return previous
    word = event.result.split(" ", 1)[0]
    if event.outcome is Outcome.FAILED:
        status = "FAILED"
    elif event.outcome is Outcome.COMPLETED and word in _ENDED:
        status = word
    else:
        status = "RUNNING"
    return InstanceRow(
        instance_id=event.instance_id,
        name=event.name,
        version="",
        status=status,
        created=previous.created if previous is not None else event.time,
        last_updated=event.time,
        custom_status="",
    )


def _kept(row: InstanceRow, filters: Filters) -> bool:
    if filters.status and row.status != filters.status:
        return False
    return filters.name.lower() in row.name.lower()


class TapLiveApp(LiveApp):
    """``inspector tap ... --ui``: the captured work items and the instances, live."""

    def __init__(self, config: LiveConfig) -> None:
        super().__init__(config)
        assert config.tap_options is not None
        self.tap_source = TapSource(
            config.tap_options,
            self.holds,
            self._report_work_item,
            self._report_notice,
            self._report_connection,
        )
        self.worker = self.tap_source
        self.listed: list[InstanceRow] = []
        """The instances the sidecar listed last (none: it answers no instance queries)."""
        self.seen: dict[str, InstanceRow] = {}
        """The instances seen in the captured orchestrator work items, by id."""

    def on_instances_loaded(self, message: InstancesLoaded) -> None:
        message.prevent_default()  # the list is merged here, not replaced
        self.listed = message.rows
        self._show_instances()
        self._show_status()

    def on_work_item_reported(self, message: WorkItemReported) -> None:
        event = message.event
        row = seen_instance(self.seen.get(event.instance_id), event)
        if row is not None and row != self.seen.get(event.instance_id):
            self.seen[event.instance_id] = row
            self._show_instances()

    def _show_instances(self) -> None:
        listed = {row.instance_id for row in self.listed}
        extra = [r for r in self.seen.values() if r.instance_id not in listed]
        extra = [r for r in extra if _kept(r, self.filters)]
        oldest = datetime.min.replace(tzinfo=timezone.utc)
        rows = sorted([*self.listed, *extra], key=lambda r: r.created or oldest, reverse=True)
        self.instances = rows
        if self._screen is not None:
            self._screen.instances = tuple(rows)

    def on_instances_table_chosen(self, message: InstancesTable.Chosen) -> None:
        if any(row.instance_id == message.instance_id for row in self.listed):
            return  # the sidecar knows it: its history is read as attach reads it
        message.prevent_default()
        turns = [
            number
            for number, row in self.items.items()
            if row.is_turn and row.event.instance_id == message.instance_id and row.event.request
        ]
        if not turns:
            self.notify("no turn of this instance was captured", severity="warning")
            return
        self.open_work_item(max(turns))
