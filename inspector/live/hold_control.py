"""The live app's hold mode: which turns the embedded worker holds, and settling a held one.

The worker's threads ask :meth:`HoldControl._hold_turn` (the gate decides and disarms); the keys
toggle rules and arm hold; releasing or abandoning a held turn is a call to the sidecar, made
in a thread that reports back by message.
"""

from __future__ import annotations

from textual import on, work

from engine.holds import HoldGate, HoldRule
from engine.worker import WorkItemEvent
from inspector.live.control import InstanceControl
from inspector.live.state import WorkItemSource
from inspector.messages import (
    HeldTurnAbandoned,
    HeldTurnReleased,
    HeldTurnSettled,
    HoldArmToggled,
    HoldRuleToggled,
)
from inspector.screens.live import LiveScreen
from inspector.widgets.live import HoldState


class HoldControl(InstanceControl):
    """Hold rules, hold armed, and the held turns' release and abandon, for the live app."""

    holds: HoldGate
    worker: WorkItemSource | None
    _screen: LiveScreen | None

    def _show_status(self) -> None:
        """Redraw the status line (the live app draws it)."""
        raise NotImplementedError

    @property
    def rules(self) -> tuple[HoldRule, ...]:
        """The hold rules, in the order added."""
        return self.holds.rules

    @property
    def hold_armed(self) -> bool:
        """Whether the next matching turn is held."""
        return self.holds.armed

    def _hold_turn(self, event: WorkItemEvent) -> bool:
        """The worker's ``hold`` question (from its threads): the gate decides and disarms."""
        return self.holds.take(event.request, event.name)

    def on_hold_rule_toggled(self, message: HoldRuleToggled) -> None:
        try:
            self.toggle_rule(message.text)
        except ValueError as exc:
            self.notify(str(exc), severity="error")

    def toggle_rule(self, text: str) -> None:
        """Add a rule, or remove it if present; empty text clears every rule.

        Raises:
            ValueError: the text is not a rule (the message says why).
        """
        self.holds.toggle(text)
        self._show_hold()

    @on(HoldArmToggled)
    def toggle_hold(self) -> None:
        """Arm hold mode for the next matching turn, or disarm it."""
        if self.worker is None:
            self.notify("hold needs --app (the embedded worker)", severity="warning")
            return
        armed = self.holds.toggle_armed()
        what = self.holds.describe()
        self.notify(f"hold {'armed: ' + what if armed else 'disarmed'}", timeout=3)
        self._show_hold()

    def on_held_turn_released(self, message: HeldTurnReleased) -> None:
        self._held_call(message.token, release=True)

    def on_held_turn_abandoned(self, message: HeldTurnAbandoned) -> None:
        self._held_call(message.token, release=False)

    @work(thread=True, group="held", exit_on_error=False)
    def _held_call(self, token: str, release: bool) -> None:
        """Complete or abandon a held turn (in a thread: it is a call to the sidecar)."""
        worker = self.worker
        if worker is None:
            return
        done = worker.release_held(token) if release else worker.abandon_held(token)
        what = "released (our response sent)" if release else "abandoned (will be redelivered)"
        self.post_message(HeldTurnSettled(what if done else "not held any more"))

    def on_held_turn_settled(self, message: HeldTurnSettled) -> None:
        self.notify(f"held turn {message.text}", timeout=4)
        self._show_status()

    def _show_hold(self) -> None:
        if self._screen is not None:
            self._screen.hold = self.hold_state()

    def hold_state(self) -> HoldState:
        """Hold mode as the hold line shows it."""
        rules = tuple(r.describe() for r in self.holds.rules)
        return HoldState(self.worker is not None, self.holds.armed, rules)

    def hold_text(self) -> str:
        """The hold rules and whether hold is armed."""
        return self.hold_state().text()
