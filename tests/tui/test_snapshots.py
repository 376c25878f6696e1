"""SVG snapshots of the stepper (regenerate with ``pytest tests/tui --snapshot-update``)."""

from __future__ import annotations

from typing import Any

import pytest
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


# Issue 13: the stepper at every size, with and without code, at a failure, a return and while
# suspended. Each shows the footer's q and ?; below 120 columns the lower right names the pane
# ``v`` shows next, and the ``_pane`` snapshots show the others reached.

SIZES = {"80x24": (80, 24), "120x34": (120, 34), "160x48": (160, 48)}
MOMENTS = {
    "failure": ("uncaught_failure-turn2", ("end",)),
    "return": ("activity_chain-turn5", ("end",)),
    "suspended": ("suspend_resume-turn3", ("g", "7", "enter")),
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("code", ["code", "history"])
def test_stepper_at(snap_compare: Any, size: str, moment: str, code: str) -> None:
    request, keys = MOMENTS[moment]
    app = build_app(request, SAMPLES_APP if code == "code" else None)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=_keys(*keys))


@pytest.mark.parametrize("presses", [1, 2, 3])
def test_80x24_every_pane_one_v_away(snap_compare: Any, presses: int) -> None:
    """At a failure with code: source, then problem, pending and the selected event."""
    app = build_app("uncaught_failure-turn2", SAMPLES_APP)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_keys("end", *["v"] * presses))


def test_breakpoint_list(snap_compare: Any) -> None:
    app = build_app(CHAIN, SAMPLES_APP)
    keys = ("b", "B", *"say_hello", "enter", "B", *"nothing_like_it", "enter")

    async def run_before(pilot: Pilot[None]) -> None:
        await _keys(*keys)(pilot)
        pilot.app.clear_notifications()  # toasts time out: keep them out of the picture
        await pilot.press("L", "down", "space")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
