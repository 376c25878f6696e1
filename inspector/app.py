"""The ``inspector open`` app: a thin shell around the stepper screen."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from engine.session import ReplaySession
from inspector.screens.keys import key_label
from inspector.screens.main import StepperScreen


class InspectorApp(App[None]):
    """Step the replay of one orchestration request, forwards and backwards."""

    CSS_PATH = "app.tcss"
    TITLE = "Durable Task Inspector"

    def __init__(
        self,
        session: ReplaySession,
        *,
        save_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.save_dir = save_dir
        started = session.request.started()
        name = started.orchestration_name if started else "?"
        self.sub_title = f"{name} · {session.request.instance_id}"

    def get_default_screen(self) -> Screen:
        """The stepper is the app's first screen (no empty screen drawn and left under it)."""
        return self.make_stepper()

    def make_stepper(self) -> StepperScreen:
        """A stepper screen on this app's session."""
        return StepperScreen(self.session, save_dir=self.save_dir)

    @property
    def stepper(self) -> StepperScreen:
        """The stepper screen (the one under any modal)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, StepperScreen):
                return screen
        raise LookupError("no stepper screen")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every stepper key as a command too, named as the help names it.

        The stepper's own Quit (which stops the replay first) replaces Textual's.
        """
        stepper = isinstance(screen, StepperScreen)
        for command in super().get_system_commands(screen):
            if not (stepper and command.title == "Quit"):
                yield command
        if stepper:
            for binding in StepperScreen.BINDINGS:
                assert isinstance(binding, Binding)
                yield SystemCommand(
                    f"{binding.description} ({key_label(binding.key)})",
                    binding.tooltip or binding.description,
                    partial(screen.run_action, binding.action),
                )
