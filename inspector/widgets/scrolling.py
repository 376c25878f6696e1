"""A pane of text that scrolls: the mouse wheel always, up/down/page keys once focused (Tab).

Left, right, Home and End stay the stepper's (step, back, start, end) even in a focused pane.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static


class TextPane(VerticalScroll, inherit_bindings=False):
    """Text in a scrolling pane; :meth:`update` replaces it, as on a ``Static``."""

    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]

    DEFAULT_CSS = """
    TextPane { scrollbar-size-vertical: 1; }
    TextPane > .pane-body { height: auto; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.body = Static(classes="pane-body")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self.body

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        """Show ``content`` (a Rich ``Text`` or a string)."""
        self.body.update(content, layout=layout)

    def reset(self) -> None:
        """Forget what was shown, as a new pane would (a reused stepper loads another session):
        the next update draws whatever it is given, from the top."""
        self.scroll_home(animate=False, immediate=True)
