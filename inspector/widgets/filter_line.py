"""The live screen's name filter, typed on a line of the screen rather than in a dialog.

A dialog is a screen of its own: closing it redraws the whole screen under it and the footer
rebuilds its keys, which cost more than the filter itself on a list of 10,000 instances. The
line takes the place of the hold line while it is open (the same height, so nothing else moves)
and says what it did with a :class:`NameFilterLine.Closed` message.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

HINT = "enter applies, empty: all · esc cancels"
"""What the line says right of the field."""


class NameFilterLine(Horizontal):
    """One line: the name filter's field; enter applies it, escape (or leaving it) cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    DEFAULT_CSS = """
    NameFilterLine { height: 1; padding: 0 1; background: $boost; display: none; }
    NameFilterLine > Label { width: auto; }
    NameFilterLine > .filter-hint { color: $text-muted; }
    NameFilterLine > Input {
        width: 1fr; min-width: 12; height: 1; border: none; padding: 0 1; margin: 0 1;
        background: $surface;
    }
    NameFilterLine > Input:focus { border: none; }
    """

    @dataclass
    class Closed(Message):
        """The filter was typed (``text``, stripped) or cancelled (None): hide the line."""

        line: NameFilterLine
        text: str | None

        @property
        def control(self) -> NameFilterLine:
            return self.line

    def compose(self) -> ComposeResult:
        yield Label("filter, name or id:")
        yield Input(placeholder="name or id", id="name-filter-field")
        yield Label(HINT, classes="filter-hint")

    _open = False

    @property
    def is_open(self) -> bool:
        """Whether the filter is being typed (shown, and not closed yet)."""
        return self._open

    @property
    def field(self) -> Input:
        """The text field."""
        return self.query_one(Input)

    def open(self, value: str) -> None:
        """Show the line with ``value`` in its field, the cursor at its end, focused."""
        field = self.field
        field.value = value
        field.cursor_position = len(value)
        self._open = True
        self.display = True
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter applies the filter."""
        event.stop()
        self._close(event.value.strip())

    def action_cancel(self) -> None:
        """Close without changing the filter."""
        self._close(None)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        """Leaving the field (tab, a click elsewhere) cancels, as escape does."""
        self._close(None)

    def _close(self, text: str | None) -> None:
        # the screen hides the line once it has moved the focus back (see Closed)
        if self._open:
            self._open = False
            self.post_message(self.Closed(self, text))
