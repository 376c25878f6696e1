"""The history-only replay reads the commonest events from their messages: the same record.

:class:`~engine.history_replay.HistoryReplayer` applies the commonest event kinds straight
from the protobuf messages and :func:`~engine.session.request_names` names events the same
way, without converting every event to its dataclass. Every committed sample request (and a
few hand-made histories with the rarer shapes) is replayed both ways; every frame, from
before the first event to the last, and every name must be the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from factories import (
    event_raised,
    orchestrator_started,
    request,
    resumed,
    started,
    suspended,
    task_completed,
    task_failed,
    task_scheduled,
)

from engine import session as session_module
from engine.errors import LoadError
from engine.frames import Frame
from engine.history import OrchestrationRequest
from engine.history_replay import HistoryReplayer
from engine.load import load_request
from engine.session import ReplaySession, display_names, request_names

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
FILES = sorted(
    p
    for folder in ("requests", "dapr_requests")
    for p in (SAMPLES / folder).glob("*.b64")
    if not p.name.endswith((".response.b64", ".result.b64"))
)


class _DataclassesOnly(HistoryReplayer):
    """The replay as it was: every event converted to its dataclass first."""

    def _fast_handlers(self) -> dict[str, Callable[[Any], None]]:
        return {}


def _frames(req: OrchestrationRequest | None, replayer: type[HistoryReplayer]) -> list[Frame]:
    assert req is not None
    original = session_module.HistoryReplayer
    session_module.HistoryReplayer = replayer  # type: ignore[misc]
    try:
        s = ReplaySession(req)
    finally:
        session_module.HistoryReplayer = original  # type: ignore[misc]
    s.advance()
    return [s.frame(i) for i in range(-1, s.total)]


def _loaded(path: Path) -> OrchestrationRequest | None:
    try:
        return load_request(str(path))
    except LoadError:
        return None


def test_the_samples_are_there() -> None:
    loaded = [r for r in map(_loaded, FILES) if r is not None]
    assert len(loaded) >= 80
    assert any(r.dialect == "dapr" for r in loaded)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_records_the_same_frames_and_names(path: Path) -> None:
    req = _loaded(path)
    if req is None:
        pytest.skip("not an orchestrator request")
    assert _frames(req, HistoryReplayer) == _frames(_loaded(path), _DataclassesOnly)
    again = _loaded(path)
    assert again is not None
    assert request_names(req) == display_names(again.events)


HAND_MADE = {
    "suspended, buffered, resumed": (
        [orchestrator_started(), started("waits"), suspended("maintenance")],
        [orchestrator_started(), event_raised("go", '"yes"'), resumed()],
    ),
    "retried activity": (
        [orchestrator_started(), started("retries"), task_scheduled(1, "charge")],
        [
            orchestrator_started(),
            task_failed(1, "declined"),
            task_scheduled(1, "charge"),
            task_completed(1, '"ok"'),
        ],
    ),
    "events no one waits for": (
        [orchestrator_started(), started("listens")],
        [orchestrator_started(), event_raised("early", None), event_raised("late", "1")],
    ),
}


@pytest.mark.parametrize("name", HAND_MADE)
def test_hand_made_histories_record_the_same_frames(name: str) -> None:
    past, new = HAND_MADE[name]
    assert _frames(request(past, new), HistoryReplayer) == _frames(
        request(past, new), _DataclassesOnly
    )
    req = request(past, new)
    assert request_names(req) == display_names(req.events)
