"""The live screens: the work-item and instance lists, and the stepper opened from them.

The live app pushes its state down into :class:`LiveScreen`'s reactives, which its widgets are
bound to (``var``: each widget bound redraws itself; a change does not redraw the whole screen);
what the user chooses goes up to the app as messages (``inspector.messages``).
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import var
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from engine.live import InstanceRow
from engine.session import ReplaySession
from engine.worker import Outcome
from inspector.messages import (
    EntitiesRequested,
    HeldTurnAbandoned,
    HeldTurnReleased,
    HoldArmToggled,
    HoldRuleToggled,
    InstanceActionRequested,
    LiveQuitRequested,
    NameFilterSet,
    StatusFilterCycled,
    TimelineRequested,
    WorkItemSaveRequested,
)
from inspector.screens.live_modals import (
    INSTANCE_ACTIONS,
    ActionForm,
    NoticesScreen,
    live_key_help,
)
from inspector.screens.main import StepperScreen
from inspector.screens.modals import HelpScreen, PromptModal
from inspector.widgets.filter_line import NameFilterLine
from inspector.widgets.live import (
    Filters,
    HoldLine,
    HoldState,
    InstancesTable,
    LiveFooter,
    LiveStatus,
    StatusLine,
    WorkItemRow,
    WorkItemsTable,
)

WORKER_ACTIONS = {"switch", "hold_rules", "hold", "release", "abandon", "save", "log"}
"""The keys that need the embedded worker (hidden without it)."""


def _action_bindings() -> list[Binding]:
    return [
        Binding(s.key, f"act('{s.action}')", s.label, tooltip=s.tooltip, show=False)
        for s in INSTANCE_ACTIONS
    ]


class LiveScreen(Screen[None]):
    """Work items (with an APP) and instances, live."""

    BINDINGS = [
        Binding("question_mark", "help", "Help", tooltip="Every key of the live view", id="help"),
        Binding("q", "quit_live", "Quit", tooltip="Stop everything and leave"),
        Binding("tab", "switch", "Switch list", tooltip="Work items / instances", id="switch"),
        Binding("t", "timeline", "Timeline", tooltip="The selected instance's history in time"),
        Binding(
            "E",
            "entities",
            "Entities",
            tooltip="The sidecar's entities and their state",
            show=False,
        ),
        Binding("f", "status_filter", "Status", tooltip="Cycle the instance status filter"),
        Binding("slash", "name_filter", "Filter", tooltip="Filter both lists by name or id"),
        Binding("H", "hold_rules", "Hold rules", tooltip="Which turns h holds: kind, name, id"),
        Binding("h", "hold", "Hold", tooltip="Hold the next matching turn"),
        Binding("r", "release", "Release", tooltip="Complete the selected held turn"),
        Binding("a", "abandon", "Abandon", tooltip="Abandon the selected held turn"),
        Binding("s", "save", "Save", tooltip="Save the selected work item"),
        Binding("l", "log", "Log", tooltip="The worker's notices", show=False),
        *_action_bindings(),
    ]

    AUTO_FOCUS = "#workitems, #instances"
    """The first list has the focus (never the name filter's field, hidden)."""

    DEFAULT_CSS = """
    LiveScreen LiveStatus { height: 1; padding: 0 1; background: $boost; }
    LiveScreen HoldLine { height: 1; padding: 0 1; color: $text-muted; }
    LiveScreen DataTable, LiveScreen InstancesTable { height: 1fr; border: round $primary 50%; }
    LiveScreen DataTable:focus, LiveScreen InstancesTable:focus { border: round $primary; }
    LiveScreen #instances.-small { height: 40%; }
    """

    instances: var[tuple[InstanceRow, ...]] = var((), init=False)
    """The sidecar's instances, newest first."""
    work_items: var[tuple[WorkItemRow, ...]] = var((), init=False)
    """The work items kept, newest first."""
    filters: var[Filters] = var(Filters, init=False)
    """The instance list's filters."""
    status: var[StatusLine | None] = var(None, init=False)
    """What the status line says."""
    hold: var[HoldState | None] = var(None, init=False)
    """Hold mode and its rules."""
    notices: var[tuple[str, ...]] = var((), init=False)
    """The embedded worker's notices, oldest first, each with its time."""

    def __init__(self, with_worker: bool) -> None:
        super().__init__()
        self.with_worker = with_worker
        """Whether the embedded worker serves work items (the work-item list and keys)."""
        self.instance_list = InstancesTable(id="instances", classes="-small" if with_worker else "")
        """The instance list (the poller reads which instances are in sight)."""
        self.filter_line = NameFilterLine(id="name-filter")
        """Where the name filter is typed (in the hold line's place while open)."""
        self._focus_before_filter: Widget | None = None

    def compose(self) -> ComposeResult:
        yield LiveStatus(id="live-status").data_bind(line=LiveScreen.status)
        yield HoldLine(id="live-hold").data_bind(state=LiveScreen.hold)
        yield self.filter_line
        with Vertical(id="live-main"):
            if self.with_worker:
                yield WorkItemsTable(id="workitems").data_bind(
                    work_items=LiveScreen.work_items,
                    notices=LiveScreen.notices,
                    filters=LiveScreen.filters,
                )
            yield self.instance_list.data_bind(
                instances=LiveScreen.instances, filters=LiveScreen.filters
            )
        yield LiveFooter()

    def on_mount(self) -> None:
        instances = self.query_one(InstancesTable)
        if self.with_worker:
            items = self.query_one(WorkItemsTable)
            items.focus()
        else:
            instances.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Without the embedded worker, the work-item keys are hidden (and do nothing)."""
        if not self.with_worker and action in WORKER_ACTIONS:
            return False
        return True

    def action_switch(self) -> None:
        """Move the focus to the other list."""
        items = self.query_one(WorkItemsTable)
        if items.has_focus:
            self.query_one(InstancesTable).focus()
        else:
            items.focus()

    def action_status_filter(self) -> None:
        """Cycle the status filter."""
        self.post_message(StatusFilterCycled())

    def action_name_filter(self) -> None:
        """Ask for the name filter, on the hold line's row (enter applies, escape cancels)."""
        if self.filter_line.is_open:
            return
        self._focus_before_filter = self.focused
        self.query_one(HoldLine).display = False
        self.filter_line.open(self.filters.name)

    def on_name_filter_line_closed(self, message: NameFilterLine.Closed) -> None:
        """The filter typed goes up to the app; the hold line and the focus come back."""
        message.stop()
        before, self._focus_before_filter = self._focus_before_filter, None
        if self.focused is None or self.focused in self.filter_line.walk_children():
            (before if before is not None and before.is_attached else self.instance_list).focus()
        self.filter_line.display = False
        self.query_one(HoldLine).display = True
        if message.text is not None:
            self.post_message(NameFilterSet(message.text))

    def action_hold_rules(self) -> None:
        """Add or remove a hold rule."""

        def answer(text: str | None) -> None:
            if text is not None:
                self.post_message(HoldRuleToggled(text))

        rules = ", ".join(self.hold.rules) if self.hold is not None else ""
        self.app.push_screen(
            PromptModal(
                "Hold rule: kind=… name=… instance=… (toggles; empty clears all)",
                f"now: {rules or 'none'}. A bare word is a name; h arms hold for the next match",
                placeholder="kind=eventRaised name=Approval instance=sample-",
            ),
            answer,
        )

    def action_hold(self) -> None:
        """Arm (or disarm) hold mode."""
        self.post_message(HoldArmToggled())

    def _selected_item(self) -> WorkItemRow | None:
        key = self.query_one(WorkItemsTable).selected_key()
        return next((r for r in self.work_items if str(r.event.number) == key), None)

    def _selected_held(self) -> WorkItemRow | None:
        row = self._selected_item()
        if row is None or row.outcome is not Outcome.HELD:
            self.notify("select a held work item", severity="warning")
            return None
        return row

    def action_release(self) -> None:
        """Complete the selected held turn."""
        if (row := self._selected_held()) is not None:
            self.post_message(HeldTurnReleased(row.event.token))

    def action_abandon(self) -> None:
        """Abandon the selected held turn."""
        if (row := self._selected_held()) is not None:
            self.post_message(HeldTurnAbandoned(row.event.token))

    def action_save(self) -> None:
        """Save the selected work item's request and response."""
        row = self._selected_item()
        if row is None:
            self.notify("select a work item to save", severity="warning")
            return
        self.post_message(WorkItemSaveRequested(row.event.number))

    def action_log(self) -> None:
        """Show the worker's notices."""
        self.app.push_screen(NoticesScreen(self.notices))

    def action_quit_live(self) -> None:
        """Stop everything and leave."""
        self.post_message(LiveQuitRequested())

    # --- acting on instances -------------------------------------------------------

    def selected_instance(self) -> str | None:
        """The instance under the cursor: of the instance list, or of the work item selected."""
        instances = self.query_one(InstancesTable)
        if self.with_worker and not instances.has_focus:
            row = self._selected_item()
            if row is not None:
                return row.event.instance_id
        return instances.selected_key()

    def action_help(self) -> None:
        """Show every key that works here."""
        self.app.push_screen(HelpScreen(live_key_help(self.with_worker)))

    def action_timeline(self) -> None:
        """The selected instance's history as a timeline."""
        instance_id = self.selected_instance()
        if instance_id is None:
            self.notify("select an instance for its timeline", severity="warning")
            return
        self.post_message(TimelineRequested(instance_id))

    def action_entities(self) -> None:
        """The sidecar's entities and their state, on their own screen."""
        self.post_message(EntitiesRequested())

    def action_act(self, action: str) -> None:
        """Confirm an action on the selected instance (its form), then ask the app to act."""
        spec = next(s for s in INSTANCE_ACTIONS if s.action == action)
        instance_id = self.selected_instance() or ""
        if spec.needs_instance and not instance_id:
            self.notify(f"select an instance to {spec.label.lower()}", severity="warning")
            return

        def answer(values: dict[str, str] | None) -> None:
            if values is not None:
                self.post_message(InstanceActionRequested(action, instance_id, values))

        title = spec.title.format(id=instance_id)
        self.app.push_screen(ActionForm(title, spec.fields), answer)


class LiveStepperScreen(StepperScreen):
    """The stepper of ``inspector open``, plus escape back to the list and r / a on a held turn."""

    BINDINGS = [
        Binding("escape", "back_to_list", "Back", tooltip="Back to the live list", id="live-back"),
        Binding("r", "release", "Release", tooltip="Send our response (held turn)", id="release"),
        Binding("a", "abandon", "Abandon", tooltip="Abandon for redelivery (held)", id="abandon"),
    ]

    DEFAULT_CSS = """
    LiveStepperScreen #live-banner { dock: top; height: 1; padding: 0 1; background: $boost; }
    LiveStepperScreen #live-banner.-held { background: $warning; color: $text; text-style: bold; }
    """

    def __init__(
        self,
        session: ReplaySession,
        *,
        save_dir: Path | None = None,
        held_token: str = "",
        origin: str = "",
    ) -> None:
        super().__init__(session, save_dir=save_dir)
        self.held_token = held_token
        """The completion token of the held turn shown (empty: not held)."""
        self.origin = origin
        """Where the request came from (``work item #3 (held)``, ``history via …``)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="live-banner")
        yield from super().compose()

    def load(  # type: ignore[override]
        self,
        session: ReplaySession,
        *,
        save_dir: Path | None = None,
        held_token: str = "",
        origin: str = "",
    ) -> None:
        """Show another request (see :meth:`StepperScreen.load`), with its origin and token."""
        self.held_token = held_token
        self.origin = origin
        super().load(session, save_dir=save_dir)
        self._title()

    def on_mount(self) -> None:
        # Textual runs StepperScreen.on_mount after this one: calling it here too ran it twice
        self._title()

    def _title(self) -> None:
        held = " · HELD: r sends our response, a abandons it" if self.held_token else ""
        text = f"{self.info.name} · {self.info.instance_id} · {self.origin}{held} · esc back"
        self.sub_title = text
        for banner in self.query("#live-banner").results(Static):
            banner.update(text, layout=False)  # one row, docked: no layout needed
            banner.set_class(bool(self.held_token), "-held")

    def action_back_to_list(self) -> None:
        """Back to the live list."""
        self.left()
        self.app.pop_screen()

    def _settle(self, release: bool) -> None:
        if not self.held_token:
            self.notify("this work item is not held", severity="warning")
            return
        token, self.held_token = self.held_token, ""
        self.post_message(HeldTurnReleased(token) if release else HeldTurnAbandoned(token))
        now = "(was held: released)" if release else "(was held: abandoned)"
        self.origin = self.origin.replace("(held)", now)
        self._title()

    def action_release(self) -> None:
        """Complete the held turn with our response."""
        self._settle(release=True)

    def action_abandon(self) -> None:
        """Give the held turn back to the sidecar."""
        self._settle(release=False)

    async def action_quit(self) -> None:
        """Leave the inspector."""
        self.workers.cancel_group(self, "replay")
        self.post_message(LiveQuitRequested())
