"""What the live lists share: their filters and how their columns fit the terminal's width."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """The instance list's filters."""

    status: str = ""
    """Only this status (empty: every status)."""
    name: str = ""
    """Only rows whose name or instance id contains this (empty: every row)."""

    def matches(self, name: str, instance_id: str) -> bool:
        """Whether a row of this name and instance passes the text filter."""
        text = self.name.lower()
        return not text or text in name.lower() or text in instance_id.lower()

    def matches_status(self, status: str) -> bool:
        """Whether a row of this status (``RUNNING``...) passes the status filter."""
        return not self.status or status == self.status


@dataclass(frozen=True)
class Column:
    """A column of a live table and how it gives way on a narrow terminal."""

    label: str
    width: int
    """The width it gets when there is room."""
    minimum: int = 0
    """Shrinkable columns go down to this (0: keeps its width)."""
    drop: int = 0
    """Left out, highest first, when the minimums do not fit (0: always shown)."""
    grow: bool = False
    """Takes the room left over on a wide terminal."""


def fit_columns(columns: Sequence[Column], width: int, padding: int = 1) -> dict[str, int]:
    """The shown columns' widths (in order) so that they fit ``width`` cells of content.

    Columns are dropped (highest ``drop`` first) while even the minimums do not fit; then the
    shrinkable ones give way in proportion to their width, never below their minimum; the room
    left over goes to the ``grow`` column. Each column also takes ``padding`` cells a side.
    """
    shown = list(columns)

    def floor(col: Column) -> int:
        return col.minimum or col.width

    while True:
        room = width - 2 * padding * len(shown)
        droppable = [c for c in shown if c.drop]
        if sum(floor(c) for c in shown) <= room or not droppable:
            break
        shown.remove(max(droppable, key=lambda c: c.drop))
    widths = {c.label: c.width for c in shown}
    over = sum(widths.values()) - room
    flexible = [c for c in shown if c.minimum]
    if over > 0 and flexible:
        slack = {c.label: c.width - c.minimum for c in flexible}
        total = sum(slack.values()) or 1
        cut = min(over, total)
        for c in flexible:
            widths[c.label] -= cut * slack[c.label] // total
        # what the rounding left over, from the last shrinkable column backwards
        over = sum(widths.values()) - room
        for c in reversed(flexible):
            if over <= 0:
                break
            take = min(over, widths[c.label] - c.minimum)
            widths[c.label] -= take
            over -= take
    elif over < 0:
        for c in shown:
            if c.grow:
                widths[c.label] -= over
                break
    return widths
