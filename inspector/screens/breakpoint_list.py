"""The breakpoint list: every breakpoint set, to switch off and on, delete, or clear."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from engine.breakpoints import Breakpoint


@dataclass
class BreakpointSet:
    """The breakpoints in the order set, and those switched off (kept, but never stopped at)."""

    all: list[Breakpoint] = field(default_factory=list)
    off: set[Breakpoint] = field(default_factory=set)

    @property
    def active(self) -> list[Breakpoint]:
        """The breakpoints that stop the replay."""
        return [b for b in self.all if b not in self.off]

    def copy(self) -> BreakpointSet:
        """An independent copy (the dialog edits one, the screen keeps the other)."""
        return BreakpointSet(list(self.all), set(self.off))


class BreakpointList(ModalScreen[BreakpointSet | None]):
    """Space switches the selected breakpoint off or on, d deletes it, x clears all."""

    BINDINGS = [
        Binding("space", "switch", "On/off", tooltip="Switch the breakpoint off or on"),
        Binding("d,delete", "delete", "Delete", tooltip="Delete the breakpoint"),
        Binding("x", "clear", "Clear all", tooltip="Delete every breakpoint"),
        Binding("escape,L", "close", "Done", tooltip="Close the list, keeping the changes"),
    ]

    def __init__(self, breakpoints: BreakpointSet) -> None:
        super().__init__()
        self.breakpoints = breakpoints.copy()
        """The set as edited so far (the answer when the dialog closes)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="bp-box"):
            yield Label("Breakpoints", id="prompt-title")
            yield OptionList(id="bp-list")
            yield Label("space/enter on·off  d delete  x clear all  esc done", id="prompt-hint")

    def on_mount(self) -> None:
        self._fill()

    def _fill(self, highlight: int | None = 0) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        bps = self.breakpoints
        if not bps.all:
            empty = Text("no breakpoints: b, B or l set one", "dim")
            options.add_option(Option(empty, disabled=True))
            return
        for bp in bps.all:
            on = bp not in bps.off
            label = Text("● " if on else "○ ", "bold red" if on else "dim")
            label.append(bp.describe(), "" if on else "dim")
            if not on:
                label.append("  (off)", "dim")
            options.add_option(Option(label))
        if highlight is not None:
            options.highlighted = max(0, min(highlight, len(bps.all) - 1))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a breakpoint switches it off or on."""
        event.stop()
        self.action_switch()

    def _selected(self) -> int | None:
        at = self.query_one(OptionList).highlighted
        return at if at is not None and at < len(self.breakpoints.all) else None

    def action_switch(self) -> None:
        """Switch the selected breakpoint off or on."""
        at = self._selected()
        if at is None:
            return
        bp = self.breakpoints.all[at]
        self.breakpoints.off.symmetric_difference_update({bp})
        self._fill(at)

    def action_delete(self) -> None:
        """Delete the selected breakpoint."""
        at = self._selected()
        if at is None:
            return
        bp = self.breakpoints.all.pop(at)
        self.breakpoints.off.discard(bp)
        self._fill(at)

    def action_clear(self) -> None:
        """Delete every breakpoint."""
        self.breakpoints = BreakpointSet()
        self._fill()

    def action_close(self) -> None:
        """Close, answering with the edited set."""
        self.dismiss(self.breakpoints)
