"""How the inspector writes times: every timestamp shown or printed is formatted here.

All times are UTC. Where a time is unknown (absent, or the protobuf zero time that sidecars send
for "not set") the widgets show ``-``; the command line's JSON shows ``None``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from engine.event_rows import EPOCH

UNKNOWN = "-"
"""What a widget shows for an unknown time."""


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is timezone.utc else value.astimezone(timezone.utc)


def _ms(value: datetime) -> str:
    return f"{value.microsecond // 1000:03d}"


def known(value: datetime | None) -> bool:
    """Whether the time is set (not absent, not the zero time)."""
    return value is not None and value != EPOCH


def clock(value: datetime | None) -> str:
    """The time of day to the millisecond: ``13:05:09.042`` (``-`` when unknown)."""
    if value is None or value == EPOCH:
        return UNKNOWN
    value = _utc(value)
    return f"{value:%H:%M:%S}.{_ms(value)}"


def stamp(value: datetime | None) -> str:
    """Date and time to the second, for lists: ``2024-01-01 13:05:09`` (``-`` when unknown)."""
    if value is None or value == EPOCH:
        return UNKNOWN
    return f"{_utc(value):%Y-%m-%d %H:%M:%S}"


def stamp_ms(value: datetime | None) -> str:
    """Date and time to the millisecond: ``2024-01-01 13:05:09.042Z`` (``-`` when absent)."""
    if value is None:
        return UNKNOWN
    value = _utc(value)
    return f"{value:%Y-%m-%d %H:%M:%S}.{_ms(value)}Z"


def iso(value: datetime) -> str:
    """ISO 8601 at full precision: ``2024-01-01T13:05:09.042311Z``."""
    return _utc(value).isoformat().replace("+00:00", "Z")


def iso_ms(value: datetime) -> str:
    """ISO 8601 to the millisecond: ``2024-01-01T13:05:09.042Z``."""
    value = _utc(value)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{_ms(value)}Z"


def event_time(value: datetime | None) -> str:
    """A history event's full timestamp (ISO 8601), ``-`` when it carries none."""
    if value is None or value == EPOCH:
        return UNKNOWN
    return iso(value)
