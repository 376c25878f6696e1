"""The stepper on a turn whose payloads are large-payload tokens, without the store: each shows
as a stored payload (the row says so, the selected-event pane gives the whole reference)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.load import load_request
from engine.session import ReplaySession
from inspector.app import InspectorApp
from inspector.widgets.history import HistoryView
from inspector.widgets.panes import DetailPane
from samples.payload_worker import PREFIX
from tests.tui.conftest import replayed

TURN = Path(__file__).resolve().parents[1] / "appopts" / "fixtures" / "payload_tokens-turn2.b64"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_open_shows_the_token_as_a_reference(size: tuple[int, int]) -> None:
    app = InspectorApp(ReplaySession(load_request(TURN)))
    async with app.run_test(size=size) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        await pilot.pause()
        screen = app.stepper
        history = screen.query_one(HistoryView)
        width = history.size.width
        rows = [
            "".join(segment.text for segment in history.render_line(y))
            for y in range(1, history.row_count + 1)
        ]
        assert all(len(row) <= width for row in rows)
        assert sum("stored " in row for row in rows) == 3, rows
        assert not any(PREFIX in row for row in rows)
        request = load_request(TURN)
        result_token = request.events[5].payload or ""
        assert result_token.startswith(PREFIX)
        detail = screen.query_one(DetailPane)
        assert detail.index == 5
        assert '"storedPayload"' in detail.summary and result_token in detail.summary
