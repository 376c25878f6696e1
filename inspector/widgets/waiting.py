"""The "waiting on" section of the pending pane: what the code awaits, as a tree with code."""

from __future__ import annotations

from rich.text import Text

from engine.awaited import DONE_STATE, LOST_STATE, OPEN_STATE
from engine.frames import Frame, OpenTask
from engine.waiting import WaitingOn, node_words, state_words, task_words, tree_lines

STATE_STYLES = {DONE_STATE: "green", LOST_STATE: "yellow"}
"""How a task's state reads: running in cyan, done in green, lost in yellow."""


def opened_words(task: OpenTask, with_code: bool) -> str:
    """``asked during #13`` (with code) or ``scheduled at #13`` (history-only)."""
    return f"{'asked during' if with_code else 'scheduled at'} #{task.opened_at}"


def waiting_text(out: Text, frame: Frame, waiting: WaitingOn, *, width: int = 0) -> None:
    """Append the section: the one-line summary, or the tree of what the code awaits (each
    task's state, and where it was asked for when that fits in ``width``; 0: always)."""
    tree = waiting.tree
    if tree is None:
        out.append(f"  {waiting.summary}", "cyan")
    else:
        if waiting.summary.startswith("a resume, then "):
            out.append("  a resume, then:", "yellow")
        for depth, node in tree_lines(tree):
            out.append("\n  " + "  " * depth + "• ")
            if node.kind == "more":
                out.append(f"… and {node.count:,} more", "dim")
                continue
            out.append(node_words(node), "cyan" if node.state == OPEN_STATE else "")
            if node.kind != "task":
                continue  # its words say how many are done, or that the race is decided
            out.append(f"  {state_words(node)}", STATE_STYLES.get(node.state, "cyan"))
            if node.task is not None:
                asked = f"  {opened_words(node.task, frame.with_code)}"
                line = out.plain.rsplit("\n", 1)[-1]
                if not width or len(line) + len(asked) <= width:
                    out.append(asked, "dim")
    if waiting.note:
        out.append(f"\n  {waiting.note}", "dim")


def task_lines(
    out: Text, tasks: tuple[OpenTask, ...], frame: Frame, limit: int, *, mark_lost: bool = False
) -> None:
    """One line per task: kind, name, task id, the event that opened it (and, with
    ``mark_lost``, whether it lost a race)."""
    for task in tasks[:limit]:
        out.append("\n  • ")
        out.append(task_words(task))
        out.append(f"  {opened_words(task, frame.with_code)}", "dim")
        if mark_lost and task in frame.lost:
            out.append("  lost a race", "yellow")
    if len(tasks) > limit:
        out.append(f"\n  … and {len(tasks) - limit:,} more", "dim")
