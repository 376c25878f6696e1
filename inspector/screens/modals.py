"""Small modal screens: go to event, breakpoint by kind or name, filter, and help."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PromptModal(ModalScreen[str | None]):
    """Ask for one line of text; enter answers it, escape cancels (``None``)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        hint: str,
        *,
        value: str = "",
        placeholder: str = "",
        integer: bool = False,
    ) -> None:
        super().__init__(classes="prompt")
        self.title_text = title
        self.hint = hint
        self.value = value
        self.placeholder = placeholder
        self.integer = integer

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label(self.title_text, id="prompt-title")
            yield Input(
                value=self.value,
                placeholder=self.placeholder,
                type="integer" if self.integer else "text",
                id="prompt-input",
            )
            yield Label(self.hint, id="prompt-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Answer with the text typed."""
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)


def goto_modal(total: int) -> PromptModal:
    """Ask for an event number."""
    return PromptModal(
        "Go to event",
        f"0 … {max(0, total - 1)}; enter to jump, escape to cancel",
        placeholder="event number",
        integer=True,
    )


def breakpoint_modal(kinds: list[str]) -> PromptModal:
    """Ask for an event kind or a name to break on."""
    sample = ", ".join(kinds[:2])
    return PromptModal(
        "Breakpoint on event kind or name (toggles)",
        f"a kind ({sample}…) or a task, event or orchestration name",
        placeholder="taskFailed or say_hello",
    )


def filter_modal(current: str) -> PromptModal:
    """Ask for the history filter."""
    return PromptModal(
        "Filter the history",
        "rows whose kind, name or payload contains this; empty shows every event",
        value=current,
        placeholder="kind, name or text",
    )


def save_modal(default: str) -> PromptModal:
    """Ask for the folder to save the request (and response) in."""
    return PromptModal(
        "Save the request (and response) in folder",
        "enter saves here (edit the folder first if you like); escape cancels",
        value=default,
        placeholder=default,
    )


class HelpScreen(ModalScreen[None]):
    """Every key, with what it does."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close help"),
    ]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Durable Task Inspector — keys\n\n", "bold")
        width = max(len(k) for k, _ in self.keys)
        for i, (key, description) in enumerate(self.keys):
            if i:
                text.append("\n")
            text.append(f"  {key:<{width}}  ", "bold cyan")
            text.append(description)
        text.append("\n\nMouse: click an event to select it (double click replays to it),\n")
        text.append("click a source line to toggle a line breakpoint.\n")
        text.append("ctrl+p opens the command palette; escape closes this help.", "dim")
        with VerticalScroll(id="help-box"):
            yield Static(text, id="help-text")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
