"""The live view's entities: every entity the sidecar holds, with its state (``QueryEntities``).

Opened from the live list with ``E``. A thread asks the sidecar about once a second and posts
what it found; the table keeps its cursor on the same entity across refreshes, and the pane
below shows the selected entity's metadata and its whole state, pretty-printed. ``enter`` (or ``v``)
shows the state full-screen; ``/`` lists only ids starting with some text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from engine.channel import describe_failure
from engine.live_entities import EntityListing, EntityRow, unsupported
from inspector.screens.modals import PromptModal
from inspector.widgets.entities import EntitiesTable, entity_detail

POLL_SECONDS = 1.0
"""How often the entities are asked for."""

WIDE = 120
"""From this width on, the detail stands beside the list instead of below it."""

Fetch = Callable[[str], EntityListing]
"""Lists the entities whose id starts with the given text."""


class StateScreen(ModalScreen[None]):
    """One entity's whole state, full-screen and scrollable."""

    BINDINGS = [Binding("escape,enter,q", "close", "Back", tooltip="Back to the entities")]

    DEFAULT_CSS = """
    StateScreen { background: $background 60%; }
    StateScreen VerticalScroll { border: round $primary; padding: 0 1; margin: 1 2; }
    """

    def __init__(self, row: EntityRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = self.row.instance_id
            yield Static(entity_detail(self.row), id="state-text")
        yield Footer()

    def action_close(self) -> None:
        """Back to the list."""
        self.dismiss(None)


class EntitiesScreen(Screen[None]):
    """Every entity the sidecar holds: id, last modified, lock, backlog and state."""

    BINDINGS = [
        Binding("escape,E", "close", "Back", tooltip="Back to the live list", id="ent-back"),
        Binding("v", "show_state", "View state", tooltip="The selected entity's whole state"),
        Binding("slash", "prefix", "Filter", tooltip="Only ids starting with some text"),
        Binding("r", "refresh", "Refresh", tooltip="Ask the sidecar now"),
    ]

    DEFAULT_CSS = """
    EntitiesScreen #ent-title { height: 1; padding: 0 1; background: $boost; }
    EntitiesScreen EntitiesTable { height: 1fr; border: round $primary 50%; }
    EntitiesScreen EntitiesTable:focus { border: round $primary; }
    EntitiesScreen #ent-detail { height: 45%; border: round $primary 50%; padding: 0 1; }
    EntitiesScreen #ent-main.-wide { layout: horizontal; }
    EntitiesScreen #ent-main.-wide EntitiesTable { width: 3fr; }
    EntitiesScreen #ent-main.-wide #ent-detail { width: 2fr; height: 1fr; }
    """

    @dataclass
    class Loaded(Message):
        """The poller's answer: a listing, or why there is none."""

        listing: EntityListing | None
        error: str = ""
        give_up: bool = False
        """The sidecar cannot list entities: stop asking (``r`` asks again)."""

    def __init__(self, fetch: Fetch, where: str, *, interval: float = POLL_SECONDS) -> None:
        super().__init__()
        self.fetch = fetch
        self.where = where
        """The sidecar's address, for the title line."""
        self.interval = interval
        self.prefix = ""
        """Only entities whose id starts with this (empty: all)."""
        self.listing: EntityListing | None = None
        """The last listing shown."""
        self.error = ""
        """Why the last listing failed (empty: it did not)."""
        self._halt = threading.Event()
        self._now = threading.Event()
        self._stopped = False

    def compose(self) -> ComposeResult:
        yield Static(f"entities · {self.where} · asking…", id="ent-title")
        with Vertical(id="ent-main"):
            yield EntitiesTable(id="entities")
            with VerticalScroll(id="ent-detail"):
                yield Static("", id="ent-state")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(EntitiesTable).focus()
        self._poll()

    def on_resize(self, event: events.Resize) -> None:
        # side by side where there is room, the detail below the list where there is not
        self.query_one("#ent-main").set_class(event.size.width >= WIDE, "-wide")

    def on_unmount(self) -> None:
        self._halt.set()
        self._now.set()

    @work(thread=True, exclusive=True, group="entities", exit_on_error=False)
    def _poll(self) -> None:
        while not self._halt.is_set():
            try:
                message = self.Loaded(self.fetch(self.prefix))
            except grpc.RpcError as err:
                stop = unsupported(err)
                message = self.Loaded(None, describe_failure(err, "QueryEntities"), stop)
            self.post_message(message)
            if message.give_up:
                self._stopped = True
                return
            self._now.wait(self.interval)
            self._now.clear()

    def on_entities_screen_loaded(self, message: EntitiesScreen.Loaded) -> None:
        self.error = message.error
        if message.listing is not None:
            self.listing = message.listing
            self._fill(message.listing)
        self._title()

    def _title(self) -> None:
        parts = ["entities", self.where]
        if self.prefix:
            parts.append(f"id starts with {self.prefix!r}")
        if self.listing is not None:
            count = len(self.listing.rows)
            parts.append(f"{count}{'+ (first shown)' if self.listing.more else ''} listed")
        line = Text(" · ".join(parts))
        if self.error:
            line.append(f" · {self.error}", style="bold red")
        self.query_one("#ent-title", Static).update(line)

    def _fill(self, listing: EntityListing) -> None:
        self.query_one(EntitiesTable).show(listing.rows)
        self._detail()

    def selected(self) -> EntityRow | None:
        """The entity under the cursor (``None``: the list is empty)."""
        return self.query_one(EntitiesTable).selected()

    @on(EntitiesTable.RowHighlighted)
    def _highlighted(self, event: EntitiesTable.RowHighlighted) -> None:
        self._detail()

    def on_entities_table_chosen(self, message: EntitiesTable.Chosen) -> None:
        self.action_show_state()

    def _detail(self) -> None:
        row = self.selected()
        text = entity_detail(row) if row is not None else Text("no entity", style="dim")
        self.query_one("#ent-state", Static).update(text)

    def action_show_state(self) -> None:
        """Show the selected entity's whole state full-screen."""
        row = self.selected()
        if row is not None:
            self.app.push_screen(StateScreen(row))

    def action_refresh(self) -> None:
        """Ask the sidecar now (and start asking again if it had stopped)."""
        if self._stopped:
            self._stopped = False
            self._poll()
        else:
            self._now.set()

    def action_prefix(self) -> None:
        """Ask which id prefix to list."""

        def answer(text: str | None) -> None:
            if text is not None:
                self.prefix = text.strip()
                self._title()
                self.action_refresh()

        self.app.push_screen(
            PromptModal(
                "List entities whose id starts with",
                "for example @counter@ (entity names are lowercase); empty: all",
                value=self.prefix,
                placeholder="@name@key",
            ),
            answer,
        )

    def action_close(self) -> None:
        """Back to the live list."""
        self.dismiss(None)
