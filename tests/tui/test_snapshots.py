"""SVG snapshots of the stepper (regenerate with ``pytest tests/tui --snapshot-update``)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.tui.conftest import NONDETERMINISTIC_APP, SAMPLES_APP, build_app, replayed

CHAIN = "activity_chain-turn5"


def _keys(*keys: str) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        await replayed(pilot)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_history_only(snap_compare: Any) -> None:
    app = build_app("caught_activity_failure-turn3")
    assert snap_compare(
        app, terminal_size=(160, 48), run_before=_keys("n", "n", "n", "n", "n", "n")
    )


def test_with_code_mid_replay(snap_compare: Any) -> None:
    app = build_app(CHAIN, SAMPLES_APP)
    assert snap_compare(app, terminal_size=(160, 48), run_before=_keys("g", "1", "0", "enter"))


def test_nondeterminism(snap_compare: Any) -> None:
    app = build_app(CHAIN, NONDETERMINISTIC_APP)
    assert snap_compare(app, terminal_size=(160, 48), run_before=_keys("end"))


def test_help_screen(snap_compare: Any) -> None:
    app = build_app(CHAIN)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_keys("question_mark"))


def test_narrow_80x24(snap_compare: Any) -> None:
    app = build_app(CHAIN, SAMPLES_APP)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_keys("n", "n", "n", "n", "n", "n"))
