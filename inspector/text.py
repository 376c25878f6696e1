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
    """One line of at most ``width`` characters, cut in the middle (``subOrch…Completed``), so
    names that share a beginning stay apart."""
    if not text or width <= 0:
        return ""
    if "\n" in text or "\r" in text or "\t" in text:
        text = " ".join(text.split())
    if len(text) <= width:
        return text
    if width < 5:
        return text[: width - 1] + "…"
    back = (width - 1) // 2
    return text[: width - 1 - back] + "…" + text[len(text) - back :]


def peer_cell(peer: str, width: int) -> str:
    """A gRPC peer (``ipv4:127.0.0.1:36384``, ``ipv6:[::1]:5000``) as ``HOST:PORT`` in at most
    ``width`` characters, cut from the left: workers on one host differ by their port."""
    scheme, colon, rest = peer.partition(":")
    text = rest if colon and scheme in ("ipv4", "ipv6") else peer
    if width <= 0 or len(text) <= width:
        return text if width > 0 else ""
    return "…" + text[len(text) - width + 1 :]


KIND_ABBREVIATIONS = (
    ("subOrchestrationInstance", "subOrch"),
    ("orchestrator", "orch"),
    ("Orchestration", "Orch"),
    ("execution", "exec"),
)
"""How a history event kind shortens when its column is narrow (the whole kind is in the
selected-event pane)."""


def short_kind(kind: str, width: int) -> str:
    """An event kind in at most ``width`` characters: abbreviated, then cut in the middle."""
    if len(kind) <= width:
        return kind
    for long, short in KIND_ABBREVIATIONS:
        kind = kind.replace(long, short)
    return middle_text(kind, width)


def relative_paths(text: str, folder: str | None = None) -> str:
    """``text`` with the paths under ``folder`` (default: the current folder) made relative.

    Stack traces name files by absolute path; below the folder the user runs the inspector
    from, ``samples/orchestrations.py`` says the same in a third of the width.
    """
    import os

    root = (folder if folder is not None else os.getcwd()).rstrip(os.sep) + os.sep
    return text.replace(f'"{root}', '"') if len(root) > 1 else text
