"""The live app's overlays: stopping, an activity as JSON, the worker's notices, action forms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

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


@dataclass(frozen=True)
class FormField:
    """One line of an action's form."""

    key: str
    label: str
    placeholder: str = ""
    value: str = ""


class ActionForm(ModalScreen[dict[str, str] | None]):
    """An action's confirmation: what it does to which instance, its fields, enter confirms.

    Answers the fields' values (``{}`` for an action without fields), or None on escape.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "confirm", "Confirm", show=False),
    ]

    DEFAULT_CSS = """
    ActionForm { align: center middle; }
    ActionForm > Vertical {
        width: 76; max-width: 100%; height: auto; border: round $warning; padding: 0 1;
        background: $surface;
    }
    ActionForm .form-title { text-style: bold; }
    ActionForm .form-hint { color: $text-muted; }
    ActionForm Input { margin: 0; }
    """

    def __init__(self, title: str, fields: Sequence[FormField] = (), hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        """What the action does, to which instance."""
        self.fields = tuple(fields)
        """The values asked for."""
        self.hint = hint or "enter confirms · tab next field · esc cancels"
        """The line under the fields."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="form-title")
            for field in self.fields:
                yield Label(field.label)
                yield Input(value=field.value, placeholder=field.placeholder, id=f"f-{field.key}")
            yield Label(self.hint, classes="form-hint")

    def values(self) -> dict[str, str]:
        """What the fields hold now."""
        return {f.key: self.query_one(f"#f-{f.key}", Input).value for f in self.fields}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field confirms."""
        event.stop()
        self.dismiss(self.values())

    def action_confirm(self) -> None:
        """Confirm (an action without fields)."""
        self.dismiss(self.values())

    def action_cancel(self) -> None:
        """Close without acting."""
        self.dismiss(None)


@dataclass(frozen=True)
class ActionSpec:
    """An action on instances: its key, its words and its form."""

    action: str
    """The name the app runs it by (``raise``, ``suspend``...)."""
    key: str
    label: str
    tooltip: str
    title: str
    """The confirmation's title; ``{id}`` is the instance."""
    fields: tuple[FormField, ...] = ()
    needs_instance: bool = True


_REASON = FormField("reason", "reason (optional)", "why")

INSTANCE_ACTIONS = (
    ActionSpec(
        "raise",
        "e",
        "Raise event",
        "Raise an event on the selected instance",
        "Raise an event on {id}",
        (
            FormField("name", "event name", "Approval"),
            FormField("payload", "payload, JSON (empty: none)", '{"approved": true}'),
        ),
    ),
    ActionSpec("suspend", "p", "Suspend", "Suspend the instance", "Suspend {id}?", (_REASON,)),
    ActionSpec(
        "resume", "u", "Resume", "Resume the suspended instance", "Resume {id}?", (_REASON,)
    ),
    ActionSpec(
        "terminate",
        "x",
        "Terminate",
        "Terminate the instance",
        "Terminate {id}?",
        (_REASON, FormField("recursive", "its sub-orchestrations too (y/n)", "y", "y")),
    ),
    ActionSpec(
        "purge",
        "X",
        "Purge",
        "Delete a finished instance and its history",
        "Purge {id} and its history? This cannot be undone.",
    ),
    ActionSpec(
        "restart",
        "R",
        "Restart",
        "Run a finished instance again with its input",
        "Restart {id} with its input?",
        (FormField("new_id", "under a new instance id (y/n)", "n", "n"),),
    ),
    ActionSpec(
        "rewind", "W", "Rewind", "Rewind a failed instance", "Rewind failed {id}?", (_REASON,)
    ),
    ActionSpec(
        "schedule",
        "n",
        "New instance",
        "Schedule a new orchestration instance",
        "Schedule a new instance",
        (
            FormField("name", "orchestrator name", "hello_sequence"),
            FormField("instance_id", "instance id (empty: the sidecar picks one)", "my-id"),
            FormField("input", "input, JSON (empty: none)", '"Tokyo"'),
            FormField("start", "start (empty: now; +30s, +5m or ISO 8601)", "+30s"),
        ),
        needs_instance=False,
    ),
)
"""Every action on instances, in the order help lists them."""


_LIVE_KEYS = {"question_mark": "?", "slash": "/"}


def live_key_help(with_worker: bool) -> list[tuple[str, str]]:
    """Every key of the live view that works in this mode, with what it does."""
    from inspector.screens.live import WORKER_ACTIONS, LiveScreen

    keys: list[tuple[str, str]] = [("enter", "Open the selected instance or work item")]
    for binding in LiveScreen.BINDINGS:
        assert isinstance(binding, Binding)
        if not with_worker and binding.action in WORKER_ACTIONS:
            continue
        keys.append((_LIVE_KEYS.get(binding.key, binding.key), binding.tooltip or ""))
    keys.append(("ctrl+p", "Command palette (every action above)"))
    return keys
