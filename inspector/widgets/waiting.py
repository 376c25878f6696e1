"""The "waiting on" section of the pending pane: what the code awaits, as a tree with code."""

from __future__ import annotations

from rich.text import Text

from engine.awaited import DONE_STATE, LOST_STATE
from engine.frames import Frame, OpenTask
from engine.waiting import WaitingOn, node_words, state_words, task_words, tree_lines

STATE_STYLES = {DONE_STATE: "green", LOST_STATE: "yellow"}
"""How a task's state reads: running in cyan, done in green, lost in yellow."""


def opened_words(task: OpenTask, with_code: bool) -> str:
    """``asked during #13`` (with code) or ``scheduled at #13`` (history-only)."""
    return f"{'asked during' if with_code else 'scheduled at'} #{task.opened_at}"


def waiting_text(out: Text, frame: Frame, waiting: WaitingOn) -> None:
    """Append the section: the one-line summary, or the tree of what the code awaits."""
    tree = waiting.tree
    if tree is None:
        out.append(f"  {waiting.summary}", "cyan")
    else:
        if waiting.summary.startswith("a resume, then "):
            out.append("  a resume, then:", "yellow")
        for i, (depth, node) in enumerate(tree_lines(tree)):
            first = i == 0 and not out.plain.endswith(":")
            out.append(("  " if first else "\n  ") + "  " * depth + ("• " if depth else ""))
            if node.kind == "more":
                out.append(f"… and {node.count:,} more", "dim")
                continue
            out.append(node_words(node), "cyan" if node.state == "open" else "")
            out.append(f"  {state_words(node)}", STATE_STYLES.get(node.state, "cyan"))
            if node.task is not None:
                out.append(f"  {opened_words(node.task, frame.with_code)}", "dim")
    if waiting.note:
        out.append(f"\n  {waiting.note}", "dim")


def task_lines(out: Text, tasks: tuple[OpenTask, ...], frame: Frame, limit: int) -> None:
    """One line per task: kind, name, task id, the event that opened it, and a lost race."""
    for task in tasks[:limit]:
        out.append("\n  • ")
        out.append(task_words(task))
        out.append(f"  {opened_words(task, frame.with_code)}", "dim")
        if task in frame.lost:
            out.append("  lost a race", "yellow")
    if len(tasks) > limit:
        out.append(f"\n  … and {len(tasks) - limit:,} more", "dim")
