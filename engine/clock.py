"""The replay clock as the replayers hold it, and the datetime it stands for.

Kept apart from :mod:`engine.turn` (which re-exports both) so that what only reads a recorded
clock (frames, the history-only replay) does not load the SDK's task module with the turn.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

ClockToken = datetime | tuple[int, int] | None
"""The replay clock as cheaply as it is held: unset, a datetime, or raw seconds and nanos."""

_AWARE_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def clock_from_token(token: datetime | tuple[int, int] | None) -> datetime | None:
    """The aware UTC clock a :attr:`ReplayContext.clock_token` stands for."""
    if token is None:
        return None
    if isinstance(token, tuple):
        seconds, nanos = token
        return _AWARE_EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    return token if token.tzinfo is not None else token.replace(tzinfo=timezone.utc)
