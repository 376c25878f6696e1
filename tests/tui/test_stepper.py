"""Pilot tests: every key and pane of ``inspector open``, asserting on what is shown."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from engine.load import load_request
from inspector.screens.modals import HelpScreen, PromptModal
from inspector.widgets.history import HistoryView
from inspector.widgets.panes import ActionsPane, DetailPane, LocalsPane, ProblemPane, StatePane
from inspector.widgets.source import SourceView
from samples import orchestrations as samples
from tests.tui.conftest import NONDETERMINISTIC_APP, SAMPLES_APP, AppFactory, replayed

CHAIN = "activity_chain-turn5"  # 18 events, 16 past and 2 new


async def test_first_screen_before_the_first_event(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        assert screen.current_frame is not None and screen.current_frame.index == -1
        state = screen.query_one(StatePane)
        assert "before step #0  (events #0–#17)" in state.summary
        assert "sample-activity_chain" in state.summary
        assert "activity_chain" in state.summary
        assert state.border_subtitle == "replay done, 18 events"
        history = screen.query_one(HistoryView)
        assert history.row_count == 18
        assert history.selected_index == 0
        assert screen.query_one(DetailPane).index == 0


async def test_n_n_steps_twice_and_p_steps_back(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("n", "n")
        screen = app.stepper
        assert screen.current_frame is not None and screen.current_frame.index == 1
        assert "position      step #1  (events #0–#17)" in screen.query_one(StatePane).summary
        assert "RUNNING" in screen.query_one(StatePane).summary
        assert screen.query_one(HistoryView).current_index == 1
        await pilot.press("right")
        assert screen.current_frame.index == 2
        await pilot.press("p")
        assert screen.current_frame.index == 1
        await pilot.press("left")
        assert screen.current_frame.index == 0
        assert "position      step #0  (events #0–#17)" in screen.query_one(StatePane).summary


async def test_end_home_and_G(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        await pilot.press("end")
        assert screen.current_frame is not None and screen.current_frame.index == 17
        assert "position      step #17  (events #0–#17)" in screen.query_one(StatePane).summary
        assert "IsReplaying   no" in screen.query_one(StatePane).summary
        await pilot.press("home")
        assert screen.current_frame.index == -1
        await pilot.press("G")
        assert screen.current_frame.index == 17
        assert screen.query_one(HistoryView).selected_index == 17


async def test_g_goes_to_an_event_number(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("g")
        assert isinstance(app.screen, PromptModal)
        await pilot.press("9", "enter")
        screen = app.stepper
        assert app.screen is screen
        assert screen.current_frame is not None and screen.current_frame.index == 9
        state = screen.query_one(StatePane).summary
        assert "position      step #9  (events #0–#17)" in state  # the event index, never a count
        assert "event         taskCompleted (past)" in state
        await pilot.press("g", "escape")
        assert screen.current_frame.index == 9


async def test_b_then_c_stops_at_the_breakpoint_and_C_goes_back(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        for _ in range(6):
            await pilot.press("down")
        assert screen.query_one(HistoryView).selected_index == 6
        await pilot.press("b")
        assert [b.index for b in screen.breakpoints] == [6]
        await pilot.press("c")
        assert screen.current_frame is not None and screen.current_frame.index == 6
        await pilot.press("c")  # nothing ahead: stays
        assert screen.current_frame.index == 6
        await pilot.press("end", "C")
        assert screen.current_frame.index == 6
        await pilot.press("b")  # toggles it off again
        assert screen.breakpoints == []


async def test_B_breaks_on_a_kind_or_a_name(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        await pilot.press("B")
        assert isinstance(app.screen, PromptModal)
        await pilot.press(*"taskcompleted", "enter")
        assert [b.kind for b in screen.breakpoints] == ["taskCompleted"]
        await pilot.press("c")
        assert screen.current_frame is not None and screen.current_frame.index == 5
        await pilot.press("c")
        assert screen.current_frame.index == 9
        await pilot.press("B", *"taskCompleted", "enter")  # toggles off
        await pilot.press("B", *"add_numbers", "enter")
        assert [b.name for b in screen.breakpoints] == ["add_numbers"]
        await pilot.press("c")
        assert screen.current_frame.index == 14


async def test_slash_filters_the_history(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        history = app.stepper.query_one(HistoryView)
        await pilot.press("slash")
        assert isinstance(app.screen, PromptModal)
        await pilot.press(*"say_hello", "enter")
        # scheduled and completed (completions are named after their task)
        assert history.visible_indices == [2, 5, 6, 9, 10, 13]
        assert "6 of 18" in str(history.border_title)
        await pilot.press("down", "down", "enter")
        assert app.stepper.current_frame is not None
        assert app.stepper.current_frame.index == 6
        await pilot.press("slash")
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")
        assert history.row_count == 18


async def test_up_down_select_and_enter_jumps(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        await pilot.press("down", "down", "down")
        assert screen.query_one(DetailPane).index == 3
        assert screen.current_frame is not None and screen.current_frame.index == -1
        await pilot.press("up")
        assert screen.query_one(DetailPane).index == 2
        assert "say_hello" in screen.query_one(DetailPane).summary
        await pilot.press("enter")
        assert screen.current_frame.index == 2


async def test_click_selects_an_event(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        history = app.stepper.query_one(HistoryView)
        await pilot.click(HistoryView, offset=(10, 1 + 1 + 5))  # border, header, row 5
        assert history.selected_index == 5
        assert app.stepper.query_one(DetailPane).index == 5
        assert '"Hello, Tokyo!"' in app.stepper.query_one(DetailPane).summary


async def test_s_saves_request_and_response(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app(CHAIN, SAMPLES_APP, save_dir=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("s")
        prompt = app.screen
        assert isinstance(prompt, PromptModal)  # s asks where, the default filled in
        assert prompt.query_one(Input).value == str(tmp_path)
        assert not list(tmp_path.iterdir())
        await pilot.press("enter")
        request = tmp_path / "sample-activity_chain.request.b64"
        response = tmp_path / "sample-activity_chain.response.b64"
        assert request.is_file() and response.is_file()
        loaded = load_request(request)
        assert loaded.instance_id == "sample-activity_chain"
        assert len(loaded.events) == 18
        assert app.stepper.saved_paths == [str(request), str(response)]


async def test_s_never_follows_a_symlink_nor_overwrites(
    make_app: AppFactory, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    folder = tmp_path / "here"
    folder.mkdir()
    (folder / "sample-activity_chain.request.b64").symlink_to(outside)
    (folder / "sample-activity_chain.response.b64").write_text("mine\n")
    app = make_app(CHAIN, SAMPLES_APP, save_dir=folder)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("s", "enter")  # s asks for the folder: the default is taken
        await pilot.press("s", "enter")
        saved = app.stepper.saved_paths
    assert outside.read_text() == "keep me\n"
    assert (folder / "sample-activity_chain.response.b64").read_text() == "mine\n"
    fresh = [folder / f"sample-activity_chain-{n}.request.b64" for n in (2, 3)]
    assert saved == [str(fresh[1]), str(folder / "sample-activity_chain-3.response.b64")]
    for path in fresh:
        assert load_request(path).instance_id == "sample-activity_chain"


async def test_s_history_only_saves_the_request(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app(CHAIN, save_dir=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("s", "enter")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["sample-activity_chain.request.b64"]


async def test_s_saves_in_the_folder_typed(make_app: AppFactory, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    app = make_app(CHAIN, save_dir=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("s")
        app.screen.query_one(Input).value = str(elsewhere)
        await pilot.press("enter")
        assert [p.name for p in elsewhere.iterdir()] == ["sample-activity_chain.request.b64"]
        assert app.stepper.saved_paths == [str(elsewhere / "sample-activity_chain.request.b64")]
        await pilot.press("s", "escape")  # escape: nothing written
        assert len(list(elsewhere.iterdir())) == 1
        assert [p.name for p in tmp_path.iterdir()] == ["elsewhere"]


async def test_question_mark_opens_help_listing_every_key(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.keys)
        for key in ("n / right", "p / left", "home", "end / G", "g", "b", "B", "c", "C", "s", "q"):
            assert key in keys
        await pilot.press("escape")
        assert app.screen is app.stepper


async def test_q_quits(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_palette_offers_the_stepper_keys(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        titles = [cmd.title for cmd in app.get_system_commands(app.stepper)]
        for title in ("Step (n / right)", "Filter (/)", "Help (?)", "Save (s)", "Continue (c)"):
            assert title in titles
        # readable key names, and one entry per command (the stepper's Quit replaces Textual's)
        assert not [t for t in titles if "slash" in t or "question_mark" in t]
        assert len(titles) == len(set(titles))
        assert [t for t in titles if t.startswith("Quit")] == ["Quit (q)"]


async def test_source_pane_marks_the_current_line_and_locals(make_app: AppFactory) -> None:
    app = make_app(CHAIN, SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        await pilot.press("g", "6", "enter")
        frame = screen.current_frame
        assert frame is not None and frame.location is not None
        source = screen.query_one(SourceView)
        assert source.file == frame.location.file
        assert source.current_line == frame.location.line
        locals_text = screen.query_one(LocalsPane).summary
        assert "results" in locals_text
        assert "say_hello" in screen.query_one(ActionsPane).summary


async def test_clicking_a_source_line_toggles_a_line_breakpoint(make_app: AppFactory) -> None:
    app = make_app(CHAIN, SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        await pilot.press("n", "n")
        source = screen.query_one(SourceView)
        line = screen.current_frame.location.line if screen.current_frame.location else 0
        top = int(source.scroll_offset.y)
        await pilot.click(SourceView, offset=(2, line - 1 - top))
        assert [b.line for b in screen.breakpoints] == [line]
        assert line in source.breakpoint_lines
        await pilot.press("home", "c")
        assert screen.current_frame is not None
        assert screen.current_frame.location is not None
        assert screen.current_frame.location.line == line
        await pilot.click(SourceView, offset=(2, line - 1 - int(source.scroll_offset.y)))
        assert screen.breakpoints == []


async def test_failure_is_shown_not_raised(make_app: AppFactory) -> None:
    app = make_app("uncaught_failure-turn2", SAMPLES_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        await pilot.press("end")
        screen = app.stepper
        assert screen.current_frame is not None
        assert screen.current_frame.status == "FAILED"
        problem = screen.query_one(ProblemPane)
        assert problem.display
        assert "ValueError" in problem.summary
        assert "FAILED" in screen.query_one(StatePane).summary


async def test_nondeterminism_panel(make_app: AppFactory) -> None:
    app = make_app(CHAIN, NONDETERMINISTIC_APP)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        problem = screen.query_one(ProblemPane)
        assert not problem.display
        await pilot.press("end")
        assert problem.display
        assert problem.border_title == "non-determinism at event #14"
        lines = problem.summary.splitlines()
        # The facts come first, so a short pane still shows them.
        assert lines[0].startswith("history has") and "add_numbers" in lines[0]
        assert lines[1].startswith("code asked") and "echo" in lines[1]
        assert lines[2].startswith("asked at") and "nondeterministic_orchestrations.py" in lines[2]


async def test_narrow_terminal_keeps_history_state_and_source(make_app: AppFactory) -> None:
    app = make_app(CHAIN, SAMPLES_APP)
    async with app.run_test(size=(80, 24)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        assert screen.has_class("-narrow")
        for widget in (HistoryView, StatePane, SourceView):
            assert screen.query_one(widget).region.width > 10
        await pilot.press("n", "n", "n")
        assert "step #2  (events #0–#17)" in screen.query_one(StatePane).summary


async def test_source_keeps_the_current_line_in_view_at_medium_heights(
    make_app: AppFactory,
) -> None:
    app = make_app("retry_until_success-turn6", SAMPLES_APP)
    async with app.run_test(size=(120, 34)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        source = screen.query_one(SourceView)
        # the state pane and the pending work leave the source a real share of the height
        assert source.scrollable_content_region.height >= 8
        await pilot.press("n")  # orchestratorStarted: the code has not run yet
        for _ in range(3):
            await pilot.press("n")
            await pilot.pause()
            assert source.current_line is not None
            assert source.current_line in source.visible_lines
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert source.current_line in source.visible_lines
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert source.current_line in source.visible_lines


async def test_before_the_code_runs_the_source_shows_the_orchestrator(
    make_app: AppFactory,
) -> None:
    app = make_app("retry_until_success-turn6", SAMPLES_APP)
    async with app.run_test(size=(120, 34)) as pilot:
        await replayed(pilot)
        source = app.stepper.query_one(SourceView)
        code = samples.retry_until_success.__code__
        assert code.co_firstlineno in source.visible_lines


async def test_selected_event_shows_a_dash_for_the_zero_timestamp(make_app: AppFactory) -> None:
    app = make_app("retry_until_success-turn6", SAMPLES_APP)
    async with app.run_test(size=(120, 34)) as pilot:
        await replayed(pilot)
        detail = app.stepper.query_one(DetailPane)
        await pilot.press("n")
        assert "\ntime 20" in detail.summary  # orchestratorStarted carries a real time
        await pilot.press("n")  # executionStarted: the zero timestamp
        assert "1970" not in detail.summary
        assert "\ntime -\n" in detail.summary
