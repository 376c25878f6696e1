"""The instance list of ``inspector attach``, kept fresh a window at a time.

Listing every instance of a large sidecar each second (every ``QueryInstances`` page) costs the
sidecar and the inspector alike. :class:`InstanceListing` lists them all now and then
(:data:`FULL_SECONDS`, and whenever asked: a filter changed, an action ran), and in between
asks only for what can be seen changing, with the query's created-time range:

- the instances created since the newest one listed (``createdTimeFrom``);
- the instances in sight (``createdTimeFrom`` / ``createdTimeTo`` of the oldest and newest row
  the user sees): their status, and whether they are still there.

So the rows in sight are at most a second old, and the rest at most :data:`FULL_SECONDS`. A
sidecar that ignores the time range answers more than asked; what it answers is merged all the
same, so the list is never wrong, only slower to make. This module never imports Textual.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from engine.live import PAGE_SIZE, InstanceRow, LiveClient, newest_first

FULL_SECONDS = 10.0
"""How often every instance is listed again (the rows out of sight are at most this old)."""

TICK = timedelta(microseconds=1)
"""Added to the newest created time in sight: ``createdTimeTo`` leaves its bound out."""

Window = tuple[datetime, datetime]
"""The created times of the oldest and the newest row in sight."""


class InstanceListing:
    """The sidecar's instances, newest first, as last listed.

    Args:
        client: The sidecar's client.
        full_every: Seconds between two full listings (0: list everything every time).
        page_size: Instances asked for per ``QueryInstances`` page.
    """

    def __init__(
        self, client: LiveClient, full_every: float = FULL_SECONDS, page_size: int = PAGE_SIZE
    ) -> None:
        self.client = client
        self.full_every = full_every
        self.page_size = page_size
        self.rows: list[InstanceRow] = []
        """The instances, newest first."""
        self.full_listings = 0
        """How many times every instance was listed."""
        self._statuses: tuple[int, ...] | None = None
        self._full_at = 0.0
        self._by_id: dict[str, InstanceRow] = {}

    def refresh(
        self, statuses: Sequence[int], in_sight: Window | None = None, *, full: bool = False
    ) -> bool:
        """List again (all, or what changes in sight); whether the rows changed.

        Raises:
            grpc.RpcError: the sidecar did not answer.
        """
        wanted = tuple(statuses)
        now = time.monotonic()
        due = now - self._full_at >= self.full_every
        if full or due or wanted != self._statuses or not self.rows or not self.rows[0].created:
            rows = self._query(wanted)
            self._statuses, self._full_at = wanted, now
            self.full_listings += 1
        else:
            rows = self._partial(wanted, in_sight)
        changed = rows != self.rows  # quick: the rows unchanged are the same objects
        if changed:
            self._by_id = {r.instance_id: r for r in rows}
        self.rows = rows
        return changed

    def _partial(self, statuses: tuple[int, ...], in_sight: Window | None) -> list[InstanceRow]:
        newest = self.rows[0].created
        answered = self._query(statuses, created_from=newest)
        gone: set[str] = set()
        if in_sight is not None:
            low, high = in_sight
            seen = self._query(statuses, created_from=low, created_to=high + TICK)
            ids = {r.instance_id for r in seen}
            gone = {
                r.instance_id
                for r in self.rows
                if r.created and low <= r.created <= high and r.instance_id not in ids
            }
            answered += seen
        return merge(self.rows, answered, gone)

    def _query(
        self,
        statuses: tuple[int, ...],
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> list[InstanceRow]:
        return self.client.query_instances(
            statuses=statuses,
            page_size=self.page_size,
            created_from=created_from,
            created_to=created_to,
            known=self._by_id,
        )


def merge(
    rows: Sequence[InstanceRow], answered: Sequence[InstanceRow], gone: set[str]
) -> list[InstanceRow]:
    """``rows`` (newest first) with the ``answered`` rows in place of theirs, ``gone`` left out.

    Rows not known before go where their created time puts them.
    """
    fresh = {r.instance_id: r for r in answered}
    kept = [fresh.pop(r.instance_id, r) for r in rows if r.instance_id not in gone]
    if not fresh:
        return kept
    added = sorted(fresh.values(), key=newest_first, reverse=True)
    if kept and newest_first(added[-1]) >= newest_first(kept[0]):
        return added + kept
    return sorted(added + kept, key=newest_first, reverse=True)
