"""Plain-text helpers shared by the command line and the widgets (no Textual imports)."""

from __future__ import annotations


def short_text(text: str | None, width: int) -> str:
    """One line of at most ``width`` characters, white space folded, with an ellipsis when cut."""
    if not text or width <= 0:
        return ""
    head = text[: width * 2]
    if "\n" in head or "\r" in head or "\t" in head:
        head = " ".join(head.split())
    if len(head) > width or len(text) > len(head):
        return head[: width - 1] + "…"
    return head
