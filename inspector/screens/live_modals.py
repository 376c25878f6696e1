"""The live app's overlays: stopping, an activity work item as JSON, the worker's notices."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.live import work_item_json
from engine.worker import WorkItemEvent
from inspector.widgets.live import outcome_label


class StoppingScreen(ModalScreen[None]):
    """Shown while quitting: the worker finishes or abandons its work items, the rest closes."""

    BINDINGS = [Binding("q,escape", "ignore", "", show=False)]

    def __init__(self, with_worker: bool) -> None:
        super().__init__()
        self.text = (
            "stopping… the worker finishes or abandons its work items"
            if with_worker
            else "stopping…"
        )
        """What the overlay says."""

    def compose(self) -> ComposeResult:
        yield Static(Text(self.text, "bold"), id="stopping-box")

    def action_ignore(self) -> None:
        """Quitting is under way already."""


_SCROLL_BOX_CSS = """
{name} {{ align: center middle; }}
{name} > VerticalScroll {{
    width: 90%; height: 80%; border: round $primary; padding: 0 1; background: $surface;
}}
"""


class ActivityScreen(ModalScreen[None]):
    """An activity work item's request and response, as JSON."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close")]

    DEFAULT_CSS = _SCROLL_BOX_CSS.format(name="ActivityScreen")

    def __init__(self, event: WorkItemEvent) -> None:
        super().__init__()
        self.event = event
        """The work item shown."""

    def compose(self) -> ComposeResult:
        ev = self.event
        text = Text()
        text.append(f"activity {ev.name} · {ev.instance_id} · #{ev.number}\n", "bold")
        text.append(f"outcome: {outcome_label(ev.outcome)} {ev.result}\n\n")
        request, response = work_item_json(ev.kind, ev.request, ev.response)
        for label, message in (("request", request), ("response", response)):
            text.append(f"{label}\n", "bold underline")
            if message is None:
                text.append("-\n\n")
                continue
            text.append(json.dumps(message, indent=2) + "\n\n")
        with VerticalScroll():
            yield Static(text)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)


class NoticesScreen(ModalScreen[None]):
    """The embedded worker's notices (connections, stops, user-process output), newest last."""

    BINDINGS = [Binding("escape,q,l", "close", "Close")]

    DEFAULT_CSS = _SCROLL_BOX_CSS.format(name="NoticesScreen")

    def __init__(self, notices: Sequence[str]) -> None:
        super().__init__()
        self.notices = tuple(notices)
        """The notices shown, each with its time."""

    def compose(self) -> ComposeResult:
        text = Text("the worker's notices\n\n", "bold")
        text.append("\n".join(self.notices) or "none yet")
        with VerticalScroll() as scroll:
            scroll.border_title = "worker log · esc closes"
            yield Static(text, id="notices")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).scroll_end(animate=False)

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)
