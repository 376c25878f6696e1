"""Pilot tests for issue 13: post-mortem, "waiting on", numbering, breakpoints, narrow panes."""

from __future__ import annotations

from typing import Any

import pytest
from textual.message import Message
from textual.widgets import Input

from inspector.screens.breakpoint_list import BreakpointList
from inspector.screens.modals import PromptModal
from inspector.widgets.footer import KeyHint
from inspector.widgets.history import HistoryView
from inspector.widgets.panes import ActionsPane, DetailPane, LocalsPane, StatePane
from inspector.widgets.source import SourceView
from samples import orchestrations as samples
from tests.tui.conftest import SAMPLES_APP, AppFactory, replayed

CHAIN = "activity_chain-turn5"  # 18 events


def _notes(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every toast the app shows from now on (its text)."""
    seen: list[str] = []
    original = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append(message)
        original(message, *args, **kwargs)

    monkeypatch.setattr(app, "notify", notify)
    return seen


async def test_post_mortem_at_a_failure_shows_the_raising_frame_and_its_locals(
    make_app: AppFactory,
) -> None:
    app = make_app("uncaught_failure-turn2", SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        screen = app.stepper
        frame = screen.current_frame
        assert frame is not None and frame.status == "FAILED"
        source = screen.query_one(SourceView)
        assert source.file is not None
        raise_line = samples.uncaught_failure.__code__.co_firstlineno + 3
        assert source.current_line == raise_line  # raise ValueError(...)
        assert "value = 41" in screen.query_one(LocalsPane).summary


async def test_after_a_return_the_return_line_its_locals_and_the_value(
    make_app: AppFactory,
) -> None:
    app = make_app(CHAIN, SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        screen = app.stepper
        first = samples.activity_chain.__code__.co_firstlineno
        assert screen.query_one(SourceView).current_line == first + 6  # return {...}
        locals_ = screen.query_one(LocalsPane).summary
        assert "results" in locals_
        assert '(returned) = {"greetings": ["Hello, Tokyo!"' in locals_


async def test_waiting_on_with_code_names_the_task_and_its_id(make_app: AppFactory) -> None:
    app = make_app("activity_chain-turn4", SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        screen = app.stepper
        state = screen.query_one(StatePane).summary
        assert "waiting on    activity add_numbers (task 4)" in state
        actions = screen.query_one(ActionsPane).summary
        assert "scheduleTask (task 4) 'add_numbers'" in actions  # '#' is for event indices
        assert "asked during #13" in actions
        assert "#4" not in actions


async def test_waiting_on_history_only_says_what_history_cannot_know(
    make_app: AppFactory,
) -> None:
    app = make_app("external_event-turn1")
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        screen = app.stepper
        assert "waiting on    no task in history" in screen.query_one(StatePane).summary
        actions = screen.query_one(ActionsPane).summary
        assert "history does not record waits for external events" in actions
        # with the code the wait is known
    app = make_app("external_event-turn1", SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        assert "waiting on    event " in app.stepper.query_one(StatePane).summary


async def test_a_task_that_lost_the_race_is_not_listed_as_open(make_app: AppFactory) -> None:
    app = make_app("race_activity_timer-turn2", SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        screen = app.stepper
        frame = screen.current_frame
        assert frame is not None and frame.status == "COMPLETED"
        actions = screen.query_one(ActionsPane).summary
        assert "left unfinished (1)" in actions
        assert "timer until" in actions and "timer timer" not in actions
        assert "open tasks" not in actions
        assert "waiting on    nothing: COMPLETED" in screen.query_one(StatePane).summary


@pytest.mark.parametrize("with_code", [False, True])
async def test_suspended_buffers_only_what_the_orchestration_will_process(
    make_app: AppFactory, with_code: bool
) -> None:
    app = make_app("suspend_resume-turn3", SAMPLES_APP if with_code else None)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("g", "7", "enter")
        screen = app.stepper
        frame = screen.current_frame
        assert frame is not None and frame.index == 7 and frame.suspended
        assert [b.name for b in frame.buffered_events] == ["GO"]
        actions = screen.query_one(ActionsPane).summary
        assert "orchestratorStarted" not in actions and "orchestratorCompleted" not in actions
        assert "GO" in actions
        state = screen.query_one(StatePane).summary
        assert "status        SUSPENDED\n" in state and "(suspended)" not in state
        assert "waiting on    a resume, then " in state


async def test_g_out_of_range_is_answered_and_does_not_move(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        notes = _notes(app, monkeypatch)
        await pilot.press("g", "5", "enter")
        screen = app.stepper
        assert screen.current_frame is not None and screen.current_frame.index == 5
        assert "position      step #5  (events #0–#17)" in screen.query_one(StatePane).summary
        await pilot.press("g", "9", "9", "enter")
        assert screen.current_frame.index == 5
        assert notes == ["no event #99: events are #0–#17"]


async def test_breakpoint_list_switches_off_deletes_and_clears(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        await pilot.press("down", "down", "down", "b")  # event 3
        await pilot.press("B", *"say_hello", "enter")
        assert [b.describe() for b in screen.breakpoints] == ["event=3", "name=say_hello"]
        await pilot.press("L")
        assert isinstance(app.screen, BreakpointList)
        await pilot.press("space")  # the first, event=3, off
        await pilot.press("escape")
        assert screen.breakpoints_off == {screen.breakpoints[0]}
        assert [b.describe() for b in screen.active_breakpoints] == ["name=say_hello"]
        await pilot.press("c")
        assert screen.current_frame is not None
        assert screen.current_frame.event is not None
        assert screen.current_frame.event.kind == "taskScheduled"  # say_hello, not event 3
        await pilot.press("L", "down", "d", "escape")  # delete name=say_hello
        assert [b.describe() for b in screen.breakpoints] == ["event=3"]
        notes = _notes(app, monkeypatch)
        await pilot.press("c")
        assert notes == ["no breakpoints on: b, B or l sets one; L lists them"]
        await pilot.press("L", "x", "escape")
        assert screen.breakpoints == [] and screen.breakpoints_off == set()


async def test_B_warns_when_nothing_matches(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        notes = _notes(app, monkeypatch)
        await pilot.press("B", *"nonexistent_thing", "enter")
        assert notes == ["no event matches name=nonexistent_thing (yet): set anyway"]
        assert [b.name for b in app.stepper.breakpoints] == ["nonexistent_thing"]
        await pilot.press("B", *"say_hello", "enter")
        assert notes[1:] == ["breakpoint set: name=say_hello"]


async def test_l_toggles_a_line_breakpoint_at_the_current_line(make_app: AppFactory) -> None:
    app = make_app(CHAIN, SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("n", "n")
        screen = app.stepper
        line = screen.query_one(SourceView).current_line
        assert line is not None
        await pilot.press("l")
        assert [b.line for b in screen.breakpoints] == [line]
        assert screen.query_one(SourceView).breakpoint_lines == {line}
        await pilot.press("home", "c")
        assert screen.current_frame is not None
        assert screen.current_frame.location is not None
        assert screen.current_frame.location.line == line
        await pilot.press("l")
        assert screen.breakpoints == []


async def test_80x24_every_pane_is_one_v_away_and_the_footer_keeps_q_and_help(
    make_app: AppFactory,
) -> None:
    selected: list[Message] = []
    app = make_app("uncaught_failure-turn2", SAMPLES_APP)
    async with app.run_test(size=(80, 24), message_hook=selected.append) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        screen = app.stepper
        assert screen.has_class("-narrow")

        def shown() -> set[str]:
            return {
                w.id or ""
                for w in screen.query("#code, #problem, #actions, #detail")
                if w.display and w.region.width > 0 and w.region.height > 0
            }

        seen = [shown()]
        for _ in range(4):
            await pilot.press("v")
            await pilot.pause()
            seen.append(shown())
        assert seen == [{"code"}, {"problem"}, {"actions"}, {"detail"}, {"code"}]
        footer = {k.key for k in screen.query(KeyHint) if 0 < k.region.right <= 80}
        assert {"n", "p", "c", "question_mark", "q", "v"} <= footer
        # the selected event pane answers the cursor there too
        await pilot.press("v", "v", "v", "up")
        assert any(isinstance(m, HistoryView.EventSelected) and m.index == 4 for m in selected)
        assert screen.query_one(DetailPane).index == 4


async def test_wide_offers_no_v_and_shows_every_pane(make_app: AppFactory) -> None:
    app = make_app("uncaught_failure-turn2", SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        screen = app.stepper
        for selector in ("#code", "#problem", "#actions", "#detail", "#state"):
            assert screen.query_one(selector).region.height > 2, selector
        assert "v" not in {k.key for k in screen.query(KeyHint)}


async def test_the_save_prompt_hint_fits(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(80, 24)) as pilot:
        await replayed(pilot)
        await pilot.press("B")
        prompt = app.screen
        assert isinstance(prompt, PromptModal)
        hint = prompt.query_one("#prompt-hint")
        assert hint.region.right <= 80
        assert hint.region.height >= 1
        assert prompt.query_one(Input).region.width > 10


async def test_a_click_on_a_footer_key_presses_it(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        step = next(k for k in screen.query(KeyHint) if k.action == "step")
        assert str(step.render()).strip() == "n Step"
        await pilot.click(step)
        await pilot.pause()
        assert screen.position == 0
        await pilot.click(step)
        await pilot.pause()
        assert screen.position == 1
