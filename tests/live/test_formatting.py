"""The one owner of time formats and status colours writes what the screens always showed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.history import EPOCH
from inspector import formatting
from inspector.style import OUTCOME_STYLES, status_style

WHEN = datetime(2024, 1, 2, 13, 5, 9, 42311, tzinfo=timezone.utc)


def test_time_formats() -> None:
    assert formatting.clock(WHEN) == "13:05:09.042"
    assert formatting.stamp(WHEN) == "2024-01-02 13:05:09"
    assert formatting.stamp_ms(WHEN) == "2024-01-02 13:05:09.042Z"
    assert formatting.iso(WHEN) == "2024-01-02T13:05:09.042311Z"
    assert formatting.iso_ms(WHEN) == "2024-01-02T13:05:09.042Z"
    assert formatting.event_time(WHEN) == "2024-01-02T13:05:09.042311Z"


def test_times_are_written_in_utc() -> None:
    elsewhere = WHEN.astimezone(timezone(timedelta(hours=-5)))
    assert formatting.clock(elsewhere) == "13:05:09.042"
    assert formatting.stamp(elsewhere) == "2024-01-02 13:05:09"


def test_unknown_times_show_a_dash() -> None:
    for write in (formatting.clock, formatting.stamp, formatting.event_time):
        assert write(None) == "-" and write(EPOCH) == "-"
    assert formatting.stamp_ms(None) == "-"
    assert not formatting.known(EPOCH) and formatting.known(WHEN)


def test_status_and_outcome_styles() -> None:
    assert status_style("FAILED") == "bold red"
    assert status_style("RUNNING") == "bold green"
    assert status_style("SOMETHING_NEW") == "bold"
    assert set(OUTCOME_STYLES) == {
        "running",
        "held",
        "completed",
        "failed",
        "abandoned",
        "undelivered",
    }


def test_every_outcome_has_a_word_and_a_colour() -> None:
    from engine.worker import Outcome
    from inspector.widgets.live import outcome_label

    words = {outcome_label(o) for o in Outcome}
    assert words == set(OUTCOME_STYLES)
    assert outcome_label(Outcome.RECEIVED) == "running"
