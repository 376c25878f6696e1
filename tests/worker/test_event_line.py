"""A work item's log line names the moment it happened, to the millisecond, in its time zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.worker import WorkItemEvent


def _line(moment: datetime) -> str:
    event = WorkItemEvent(
        time=moment,
        kind="activity",
        instance_id="i",
        name="n",
        result="ok",
        seconds=0.0015,
        number=1,
    )
    return event.line()


def test_each_line_carries_its_own_second_and_zone() -> None:
    start = datetime(2026, 11, 23, 16, 41, 38, 981000, tzinfo=timezone.utc)
    plus_two = timezone(timedelta(hours=2))
    moments = [
        start,
        start + timedelta(milliseconds=5),
        start.astimezone(plus_two),
        start + timedelta(seconds=1),
        start,
        start + timedelta(days=1),
    ]
    for moment in moments:
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        assert _line(moment) == f"{stamp} activity     i n ok 1.5ms"
    assert _line(start.astimezone(plus_two)).startswith("2026-11-23T18:41:38.981Z ")
