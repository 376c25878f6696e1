"""The live app's work items: kept as the embedded worker reports them, listed, opened (a turn in
the stepper, an entity batch in its stepper, an activity as JSON) and saved.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from textual import events
from textual.timer import Timer

from engine.entity_view import BatchStepper
from engine.errors import InspectorError
from engine.history import OrchestrationRequest
from engine.live import build_request, turn_request
from engine.session import ReplaySession
from engine.worker import Outcome
from inspector.live.hold_control import HoldControl
from inspector.live.state import WorkItems, save_work_item
from inspector.messages import WorkItemReported, WorkItemSaveRequested
from inspector.screens.entity_batch import EntityBatchScreen
from inspector.screens.live import LiveStepperScreen
from inspector.screens.live_modals import ActivityScreen
from inspector.widgets.live import WorkItemRow, WorkItemsTable, outcome_label

KEEP_KNOWN = 500
"""Instances named by work items kept for a sidecar without ``QueryInstances``."""
PREPARE_AGAIN = 1.0
"""Seconds after which the stepper is prepared again: when another screen was in its way, or
after the terminal's last resize."""
PREPARE_WAIT = 5.0
"""Seconds the stepper being prepared may take to lay itself out (a screen closed under it
never answers)."""


class WorkItemControl(HoldControl):
    """The work items, and the steppers they and the instances open in, for the live app."""

    work_items: WorkItems
    known_instances: tuple[str, ...]
    _items_changed: bool
    _steppers: dict[bool, LiveStepperScreen]
    stopping: bool
    _prepare_timer: Timer | None = None

    @property
    def items(self) -> dict[int, WorkItemRow]:
        """The work items kept, by number."""
        return self.work_items.by_number

    def on_work_item_reported(self, message: WorkItemReported) -> None:
        event = message.event
        self._know(event.instance_id)
        if not self.work_items.report(event):
            return
        self._items_changed = True
        if event.outcome is Outcome.HELD:
            self._show_items()
            self._show_hold()
            self.notify(
                f"held turn #{event.number} of {event.instance_id}: r sends, a abandons",
                title="hold",
                timeout=8,
            )
            self.open_work_item(event.number)

    def _know(self, instance_id: str) -> None:
        if instance_id and instance_id not in self.known_instances:
            self.known_instances = (*self.known_instances[-(KEEP_KNOWN - 1) :], instance_id)

    def _show_items(self) -> None:
        self._items_changed = False
        if self._screen is not None:
            self._screen.work_items = self.work_items.newest_first()

    def on_work_items_table_chosen(self, message: WorkItemsTable.Chosen) -> None:
        self.open_work_item(message.number)

    def open_work_item(self, number: int) -> None:
        """Open a work item: a turn in the stepper with the APP's code, an activity as JSON."""
        row = self.items.get(number)
        if row is None:
            return
        event = row.event
        if not event.request:
            self.notify("no request recorded for this work item", severity="warning")
            return
        if event.kind == "entity":
            stepper = BatchStepper.from_bytes(event.request, self.config.user_app)
            self.push_screen(EntityBatchScreen(stepper))
            return
        if not row.is_turn:
            self.push_screen(ActivityScreen(event))
            return
        try:
            request = turn_request(event.request, f"work item #{number}")
            session = ReplaySession(request, self.config.user_app)
        except InspectorError as exc:
            self.notify(str(exc), severity="error")
            return
        held = row.outcome is Outcome.HELD
        self.push_screen(
            self._stepper(
                session,
                held_token=event.token if held else "",
                origin=f"work item #{number} ({outcome_label(row.outcome)})",
            )
        )

    def on_work_item_save_requested(self, message: WorkItemSaveRequested) -> None:
        row = self.items.get(message.number)
        if row is None:
            self.notify("select a work item to save", severity="warning")
            return
        try:
            paths = save_work_item(self.config.save_dir or Path.cwd(), row)
        except OSError as exc:
            self.notify(f"cannot save: {exc}", severity="error")
            return
        self.notify("saved " + ", ".join(paths), title="saved", timeout=6)

    def _stepper(
        self, session: ReplaySession, *, origin: str, held_token: str = ""
    ) -> LiveStepperScreen:
        """A stepper on ``session``: the one kept for its kind (with code or history-only),
        loaded anew; a new one while that one is open (used once), or once the terminal was
        resized since it was shown (kept in its place)."""
        save_dir = self.config.save_dir
        with_code = session.app is not None
        kept = self._steppers.get(with_code)
        if kept is not None and kept not in self.screen_stack:
            if kept.outer_size == self.size:
                kept.load(session, save_dir=save_dir, held_token=held_token, origin=origin)
                return kept
            # laid out at another size: where a new one's panes settle depends on the sizes
            # it passes through, so a new one replaces it
            self.uninstall_screen(kept)
            kept.remove()
            kept = None
        screen = LiveStepperScreen(session, save_dir=save_dir, held_token=held_token, origin=origin)
        if kept is None:
            self._steppers[with_code] = screen
            self.install_screen(screen, f"stepper-{'code' if with_code else 'history'}")
        return screen

    def prepare_stepper(self) -> None:
        """Build, while the app is idle, the stepper the instances will open in.

        Textual composes, mounts and lays out a screen only when it is pushed, which made the
        first open of a session cost twice a reused stepper's. The stepper is pushed and popped
        here within one batch (nothing is drawn) on an empty request, and kept: the first open
        then loads it (:meth:`StepperScreen.load`) like any later one. It runs in the app's
        message loop, so no key reaches the stepper while it is on the stack. A stepper kept
        at another terminal size (resized since) is replaced by one prepared at this size.
        """
        self.call_later(self._prepare_stepper)

    def on_resize(self, event: events.Resize) -> None:
        """Once the terminal has kept its new size a while, prepare the stepper at that size."""
        if self._prepare_timer is not None:
            self._prepare_timer.stop()
        self._prepare_timer = self.set_timer(PREPARE_AGAIN, self.prepare_stepper)

    async def _prepare_stepper(self) -> None:
        if self.stopping or not self.is_running:
            return
        user_app = self.config.user_app
        kept = self._steppers.get(user_app is not None)
        if kept is not None and (kept in self.screen_stack or kept.outer_size == self.size):
            return  # kept at this size already (an instance was opened first), or open now
        if not self.screen_stack or self.screen_stack[-1] is not self._screen:
            self.set_timer(PREPARE_AGAIN, self.prepare_stepper)  # a modal, a stepper: later
            return
        request = OrchestrationRequest.from_proto(build_request("", ()))
        screen = self._stepper(ReplaySession(request, user_app), origin="")
        with self.batch_update():
            try:
                await self.push_screen(screen)
                # its resume (the layout at the terminal's size) is handled before this
                laid_out = asyncio.Event()
                if screen.call_later(laid_out.set):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(laid_out.wait(), PREPARE_WAIT)
            finally:
                # the app may be closing meanwhile: its stack is gone, ``self.screen`` raises
                if self.screen_stack and self.screen_stack[-1] is screen:
                    await self.pop_screen()
        screen.left()
