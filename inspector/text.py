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


def middle_text(text: str | None, width: int) -> str:
    """One line of at most ``width`` characters, cut in the middle so both ends stay.

    Ids that share a long prefix (``demo1-parent_1a2b``, ``demo1-parent_9f8e``) stay different.
    """
    if not text or width <= 0:
        return ""
    if "\n" in text or "\r" in text or "\t" in text:
        text = " ".join(text.split())
    if len(text) <= width:
        return text
    if width < 5:
        return text[: width - 1] + "…"
    tail = (width - 1) // 2
    head = width - 1 - tail
    return text[:head] + "…" + text[len(text) - tail :]
