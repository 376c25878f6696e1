"""SVG snapshots of the stepper on a rewind turn: the rewind pane (what the rewind changes), the
note and the one pending action (regenerate with ``pytest tests/tui --snapshot-update``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from engine.app_loader import load_app
from engine.load import load_request
from engine.session import ReplaySession
from inspector.app import InspectorApp
from tests.tui.conftest import replayed

REWIND_TURN = Path(__file__).resolve().parents[1] / "appopts" / "fixtures" / "rewind_act-turn4.b64"


def _app(with_code: bool) -> InspectorApp:
    app = load_app("samples.rewind_app") if with_code else None
    return InspectorApp(ReplaySession(load_request(REWIND_TURN), app))


def _keys(*keys: str) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        await replayed(pilot)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    ("size", "code", "keys"),
    [
        ((160, 48), True, ("end",)),
        ((80, 24), True, ("end", "v")),
        ((80, 24), False, ("end", "v", "v")),
    ],
    ids=["160x48-code", "80x24-code-rewind-pane", "80x24-history-rewind-pane"],
)
def test_rewind_turn(
    snap_compare: Any, size: tuple[int, int], code: bool, keys: tuple[str, ...]
) -> None:
    assert snap_compare(_app(code), terminal_size=size, run_before=_keys(*keys))
