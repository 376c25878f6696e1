"""Pilot tests for issue 13's rest: the when_all / when_any tree, race losers, locals at the
return, and every text pane scrolling (wheel and keys) at 80x24, 120x34 and 160x48."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from engine.app_loader import load_app
from engine.session import ReplaySession
from inspector.app import InspectorApp
from inspector.widgets.panes import ActionsPane, DetailPane, LocalsPane, ProblemPane, StatePane
from inspector.widgets.scrolling import TextPane
from tests import factories as f
from tests.fixtures.composite_orchestrations import fan_out_history, nested_race_history
from tests.tui.conftest import SAMPLES_APP, AppFactory, replayed

COMPOSITE_APP = Path(__file__).resolve().parents[1] / "fixtures" / "composite_orchestrations.py"


def composite_app(turns: int) -> InspectorApp:
    """The stepper on turn ``turns`` of ``nested_race`` (2: the race decided, 3: the when_all
    done, the loser still running), with its code."""
    past, new = nested_race_history(turns)
    return InspectorApp(ReplaySession(f.request(past, new), load_app(str(COMPOSITE_APP))))


def fan_out_app(count: int) -> InspectorApp:
    past, new = fan_out_history(count)
    return InspectorApp(ReplaySession(f.request(past, new), load_app(str(SAMPLES_APP))))


async def test_the_tree_shows_done_open_and_lost_once_the_race_is_decided() -> None:
    app = composite_app(2)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        await pilot.press("g", "4", "enter")  # timerCreated: the race not decided yet
        actions = screen.query_one(ActionsPane).summary
        assert "waiting on\n  • when_all of 2 (0 done)\n" in actions
        assert "      • timer until 2024-01-01T13:00:00Z (task 3)  running" in actions
        assert "lost" not in actions
        await pilot.press("end")  # fast (task 2) completed: the timer lost the race
        actions = screen.query_one(ActionsPane).summary
        assert "waiting on\n  • when_all of 2 (1 done)\n" in actions
        assert "    • activity slow (task 1)  running  asked during #1" in actions
        assert "    • when_any of 2 (decided)\n" in actions
        assert "      • activity fast (task 2)  done" in actions
        assert "      • timer until 2024-01-01T13:00:00Z (task 3)  lost the race" in actions
        assert "1 task lost the race, still running" in actions
        assert "open tasks" not in actions  # every open task is in the tree
        state = screen.query_one(StatePane).summary
        assert "waiting on    when_all of 2 (1 done): activity slow (task 1)\n" in state


async def test_after_the_when_all_the_loser_is_listed_apart_as_still_running() -> None:
    app = composite_app(3)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        actions = app.stepper.query_one(ActionsPane).summary
        assert "waiting on\n  • activity last (task 4)  running" in actions
        assert "lost a race, still running (1)\n  • timer until 2024-01-01T13:00:00Z (task 3)" in (
            actions
        )
        assert "waiting on    activity last (task 4)\n" in app.stepper.query_one(StatePane).summary


async def test_at_the_end_a_race_loser_is_named_as_such() -> None:
    app = composite_app(4)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        actions = app.stepper.query_one(ActionsPane).summary
        assert "1 task left unfinished: 1 lost a when_any race" in actions
        assert "(task 3)  asked during #1  lost a race" in actions


async def test_narrow_tree_lines_leave_out_where_each_was_asked_for() -> None:
    app = composite_app(2)
    async with app.run_test(size=(80, 24)) as pilot:
        await replayed(pilot)
        await pilot.press("end", "v")  # the lower right: pending
        actions = app.stepper.query_one(ActionsPane)
        assert actions.display and actions.region.width > 0
        assert "    • activity slow (task 1)  running\n" in actions.summary
        assert "asked during" not in actions.summary


async def test_locals_at_the_return_are_those_of_the_return_line(make_app: AppFactory) -> None:
    app = make_app("activity_chain-turn5", SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        locals_ = app.stepper.query_one(LocalsPane).summary
        # `total` is bound by the last resume, after the last yield: the return's frame has it
        assert "total      = 42" in locals_
        assert "(returned) = " in locals_


async def _wheel(pilot: Pilot[None], pane: TextPane) -> None:
    await pilot._post_mouse_events([events.MouseScrollDown], pane, offset=(3, 2))


@pytest.mark.parametrize("size", [(80, 24), (104, 30), (120, 34), (160, 48)])
async def test_the_pending_pane_scrolls_by_wheel_and_keys(size: tuple[int, int]) -> None:
    app = fan_out_app(30)
    async with app.run_test(size=size) as pilot:
        await replayed(pilot)
        screen = app.stepper
        await pilot.press("end")
        if screen.has_class("-narrow"):
            await pilot.press("v")  # source, then pending
        pane = screen.query_one(ActionsPane)
        assert "activity square (task 30)" in pane.summary
        assert pane.max_scroll_y > 0, "the pane is not capped: nothing to scroll"
        await _wheel(pilot, pane)
        assert pane.scroll_y > 0
        pane.scroll_home(animate=False)
        pane.focus()
        await pilot.press("pagedown")
        await pilot.pause()
        assert pane.scroll_y > 0
        at = screen.position
        await pilot.press("left")  # still steps back with the pane focused
        assert screen.position == at - 1


@pytest.mark.parametrize("size", [(80, 24), (120, 34), (160, 48)])
async def test_every_text_pane_is_a_scrolling_pane(size: tuple[int, int]) -> None:
    app = composite_app(2)
    async with app.run_test(size=size) as pilot:
        await replayed(pilot)
        screen: Any = app.stepper
        for cls in (StatePane, ActionsPane, LocalsPane, DetailPane, ProblemPane):
            pane = screen.query_one(cls)
            assert isinstance(pane, TextPane) and pane.can_focus
            assert pane.styles.overflow_y == "auto"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_current_source_line_is_shown_whole(
    make_app: AppFactory, size: tuple[int, int]
) -> None:
    from inspector.widgets.source import SourceView
    from samples import orchestrations as samples

    app = make_app("activity_chain-turn5", SAMPLES_APP)
    async with app.run_test(size=size) as pilot:
        await replayed(pilot)
        await pilot.press("g", "6", "enter")  # at results.append((yield ctx.call_activity(...)))
        source = app.stepper.query_one(SourceView)
        line = samples.activity_chain.__code__.co_firstlineno + 4
        assert source.current_line == line
        rows = [source.render_line(y).text for y in range(source.size.height)]
        at = next(i for i, row in enumerate(rows) if f"{line} ▶ " in row)
        shown = rows[at].split("▶ ", 1)[1].rstrip()
        for row in rows[at + 1 :]:
            if "↪ " not in row:
                break
            shown += row.split("↪ ", 1)[1].rstrip()
        whole = "results.append((yield ctx.call_activity(say_hello, input=city)))"
        assert whole in shown.replace(" ", "") or whole.replace(" ", "") in shown.replace(" ", "")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_a_toast_covers_neither_the_state_nor_the_pending_pane(
    make_app: AppFactory, size: tuple[int, int]
) -> None:
    from textual.widgets._toast import Toast

    app = make_app("activity_chain-turn5", SAMPLES_APP)
    async with app.run_test(size=size, notifications=True) as pilot:
        await replayed(pilot)
        screen = app.stepper
        screen.notify("a fairly long message that has to wrap somewhere\nin /some/folder/x")
        for _ in range(50):
            await pilot.pause()
            toasts = list(app.screen.query(Toast))
            if toasts and all(t.region.area for t in toasts):
                break
        assert toasts
        for pane in (screen.query_one(StatePane), screen.query_one(ActionsPane)):
            if not pane.display or pane.region.area == 0:
                continue
            for toast in toasts:
                assert not toast.region.overlaps(pane.region), (type(pane).__name__, size)
