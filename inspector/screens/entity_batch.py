"""The entity-batch view: step an entity work item one operation at a time.

The left pane lists the batch's operations (the current one marked); the right pane shows the
current operation: its input, the entity's state before and after, its result or failure, and
the signals or orchestrations it asked for. ``n``/``p`` step forwards and backwards, as in the
stepper.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from engine.entity_view import BatchPosition, BatchStepper


class OperationList(Static):
    """The batch's operations, one line each, the current one marked."""

    DEFAULT_CSS = "OperationList { width: 1fr; border: round $primary; padding: 0 1; }"

    def show(self, stepper: BatchStepper) -> None:
        """Draw the list for the stepper's position."""
        out = Text()
        out.append("▶ (start)" if stepper.index < 0 else "  (start)")
        for i, step in enumerate(stepper.steps):
            out.append("\n")
            mark = "▶ " if i == stepper.index else "  "
            outcome = Text("failed", "red") if step.failure else Text("ok", "green")
            out.append(f"{mark}{i + 1}. {step.operation.name}", "bold" if mark.strip() else "")
            out.append("  ")
            out.append(outcome)
        self.update(out)


class OperationPane(Static):
    """The current operation: input, state before and after, result or failure, actions."""

    DEFAULT_CSS = "OperationPane { width: 2fr; border: round $secondary; padding: 0 1; }"

    def show(self, position: BatchPosition) -> None:
        """Draw the pane for ``position``."""
        step = position.step
        if step is None:
            start = _or_none(position.state)
            self.update(Text.assemble(("before the first operation\n", "dim"), "state  ", start))
            return
        op = step.operation
        out = Text()
        rows = [
            ("operation", op.name),
            ("request", op.request_id),
            ("kind", "call" if op.caller is not None else "signal or V1 operation"),
            ("input", _or_none(op.input)),
            ("state before", _or_none(step.state_before)),
            ("state after", _or_none(step.state_after)),
        ]
        for label, value in rows:
            out.append(f"{label:<13}", "bold")
            out.append(f"{value}\n")
        if step.failure is not None:
            out.append(f"{'failed':<13}", "bold red")
            out.append(f"{step.failure.error_type}: {step.failure.message}\n", "red")
        else:
            out.append(f"{'result':<13}", "bold green")
            out.append(f"{_or_none(step.result)}\n")
        for action in step.actions:
            out.append(f"{'asked':<13}", "bold")
            out.append(f"{action}\n")
        self.update(out)


def _or_none(text: str | None) -> str:
    return "(none)" if text is None else text


class EntityBatchScreen(Screen[None]):
    """Step an entity batch, one operation at a time, forwards and backwards."""

    BINDINGS = [
        Binding("n,right,down", "step", "Step", tooltip="Run the next operation", id="step"),
        Binding("p,left,up", "back", "Back", tooltip="Step back one operation", id="back"),
        Binding("home", "start", "Start", tooltip="Before the first operation", id="start"),
        Binding("end,G", "end", "End", tooltip="After the last operation", id="end"),
        Binding("q,escape", "close", "Close", tooltip="Leave the batch view", id="close"),
    ]

    @dataclass
    class Moved(Message):
        """The position changed."""

        position: BatchPosition

    position: reactive[BatchPosition | None] = reactive(None, init=False)
    """Where the stepper stands."""

    def __init__(self, stepper: BatchStepper) -> None:
        super().__init__()
        self.stepper = stepper

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OperationList(id="operations")
            yield OperationPane(id="operation")
        yield Footer()

    def on_mount(self) -> None:
        """Show the batch before its first operation."""
        ops = self.query_one(OperationList)
        ops.border_title = f"{self.stepper.entity_id} · {len(self.stepper.steps)} operations"
        self.position = self.stepper.position()

    def watch_position(self, position: BatchPosition | None) -> None:
        if position is None:
            return
        self.query_one(OperationList).show(self.stepper)
        pane = self.query_one(OperationPane)
        pane.border_title = f"operation {position.index + 1} of {position.total}"
        pane.show(position)
        self.post_message(self.Moved(position))

    def action_step(self) -> None:
        """Run the next operation."""
        self.position = self.stepper.move(1)

    def action_back(self) -> None:
        """Step back one operation."""
        self.position = self.stepper.move(-1)

    def action_start(self) -> None:
        """Before the first operation."""
        self.position = self.stepper.go(-1)

    def action_close(self) -> None:
        """Back to the screen below (the live view), or quit when the view is the app."""
        if isinstance(self.app, EntityBatchApp):
            self.app.exit()
        else:
            self.dismiss()

    def action_end(self) -> None:
        """After the last operation."""
        self.position = self.stepper.go(len(self.stepper.steps) - 1)


class EntityBatchApp(App[None]):
    """``inspector open`` on an entity work item."""

    TITLE = "Durable Task Inspector"

    def __init__(self, stepper: BatchStepper) -> None:
        super().__init__()
        self.stepper = stepper
        self.sub_title = f"entity batch · {stepper.entity_id}"

    def on_mount(self) -> None:
        """Open the batch view."""
        self.push_screen(EntityBatchScreen(self.stepper))
