"""The live app's part that acts on instances, draws their timelines and lists entities.

Kept apart from the work items (:mod:`inspector.live.work_items`) and hold mode
(:mod:`inspector.live.hold_control`): each action runs in a thread (it is a call to the
sidecar) and comes back as one line, shown and kept in :attr:`InstanceControl.action_results`;
a timeline is read in a thread and opened when drawn.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from engine.channel import describe_failure
from engine.errors import InspectorError
from engine.live import LiveClient
from engine.live_actions import ActionResult, run_action
from engine.session import ReplaySession
from engine.timeline import build_timeline
from inspector.live.config import LiveConfig
from inspector.live.poller import InstancePoller
from inspector.messages import (
    EntitiesRequested,
    HistoryRead,
    HistoryReadFailed,
    InstanceActionDone,
    InstanceActionRequested,
    TimelineRead,
    TimelineRequested,
)
from inspector.screens.entities import EntitiesScreen
from inspector.screens.live import LiveScreen
from inspector.screens.timeline import TimelineScreen


class InstanceControl(App[None]):
    """Acting on instances (raise, suspend… schedule) and their timelines, for the live app."""

    client: LiveClient
    poller: InstancePoller
    config: LiveConfig

    def __init__(self) -> None:
        super().__init__()
        self.action_results: list[ActionResult] = []
        """What every action answered, oldest first."""

    def on_instance_action_requested(self, message: InstanceActionRequested) -> None:
        what = message.instance_id or "a new instance"
        self.notify(f"{message.action}: asking the sidecar about {what}…", timeout=2)
        self._act(message.action, message.instance_id, message.values)

    @work(thread=True, group="act", exit_on_error=False)
    def _act(self, action: str, instance_id: str, values: dict[str, str]) -> None:
        result = run_action(self.client.actions, action, instance_id, values)
        self.post_message(InstanceActionDone(action, result))

    def on_instance_action_done(self, message: InstanceActionDone) -> None:
        result = message.result
        self.action_results.append(result)
        self.notify(
            result.text,
            title=message.action,
            severity="information" if result.ok else "error",
            timeout=6,
        )
        self.poller.poll_now.set()

    def on_entities_requested(self, message: EntitiesRequested) -> None:
        self.push_screen(EntitiesScreen(self.client.entities, self.client.address))

    def on_timeline_requested(self, message: TimelineRequested) -> None:
        self._read_timeline(message.instance_id)

    @work(thread=True, group="history", exit_on_error=False)
    def _read_timeline(self, instance_id: str) -> None:
        try:
            history = self.client.history(instance_id)
        except LookupError as exc:
            self.post_message(HistoryReadFailed(str(exc)))
            return
        except grpc.RpcError as err:
            why = describe_failure(err, "StreamInstanceHistory")
            self.post_message(HistoryReadFailed(f"cannot read the history of {instance_id}: {why}"))
            return
        timeline = build_timeline(history.events)
        title = f"{instance_id} · via {history.source}"
        self.post_message(TimelineRead(instance_id, timeline, title))

    def on_timeline_read(self, message: TimelineRead) -> None:
        self.push_screen(TimelineScreen(message.timeline, message.title))

    def _instance_session(self, message: HistoryRead) -> tuple[ReplaySession | None, str]:
        """The instance's session: with the APP's code where it has the orchestrator."""
        origin = f"history via {message.source}"
        if self.config.user_app is not None:
            try:
                return ReplaySession(message.request, self.config.user_app), origin + " · code"
            except InspectorError as exc:
                self.notify(f"{exc}: opened history-only", severity="warning")
        try:
            return ReplaySession(message.request), origin
        except InspectorError as exc:
            self.notify(str(exc), severity="error")
            return None, origin

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, LiveScreen):
            return
        for binding in screen.BINDINGS:
            assert isinstance(binding, Binding)
            if screen.check_action(binding.action.split("(")[0], ()) is False:
                continue
            action = binding.action
            yield SystemCommand(
                f"{binding.description} ({binding.key})",
                binding.tooltip or binding.description,
                lambda a=action: self.call_later(screen.run_action, a),  # type: ignore[misc]
            )
