"""A stepper kept and loaded again shows what a new stepper on the same request shows.

The live app keeps its stepper between opens (mounting and laying out a new one cost twice the
key budget); each test here opens a request A, moves about in it (steps, a breakpoint, a filter,
the cursor, another pane focused and scrolled, another pane shown), goes back, loads B into the
same screen and compares the screen with a new stepper's on B: its picture (the SVG export,
every cell and colour) and what its widgets hold; then both take the same keys and are compared
again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from engine.app_loader import load_app
from engine.load import load_request
from engine.session import ReplaySession
from engine.worker import ConnectionOptions
from inspector.live import LiveApp, LiveConfig
from inspector.messages import NamesResolved, ReplayFinished, ReplayProgressed
from inspector.screens.live import LiveScreen, LiveStepperScreen
from inspector.screens.modals import HelpScreen
from inspector.widgets.history import HistoryView
from inspector.widgets.live import InstancesTable
from inspector.widgets.panes import ActionsPane, ProblemPane, StatePane
from inspector.widgets.scrolling import TextPane
from inspector.widgets.source import SourceView
from samples import orchestrations as samples
from tests.live.conftest import wait_done
from tests.live.test_attach import wait_for, worker_config

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = ROOT / "samples" / "requests"
SAMPLES_APP = str(ROOT / "samples" / "orchestrations.py")
NONDETERMINISTIC_APP = str(
    ROOT / "tests" / "tui" / "fixtures" / "nondeterministic_orchestrations.py"
)


def _session(name: str, app: str | None) -> ReplaySession:
    return ReplaySession(
        load_request(str(REQUESTS / f"{name}.b64")), load_app(app) if app else None
    )


class _List(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("the list")


class _Host(App[None]):
    """The list, and a stepper pushed over it (kept installed, as the live app keeps it)."""

    CSS_PATH = str(ROOT / "inspector" / "app.tcss")

    def on_mount(self) -> None:
        self.push_screen(_List())

    def open(self, screen: LiveStepperScreen) -> None:
        if not self.is_screen_installed(screen):
            self.install_screen(screen, "stepper")
        self.push_screen(screen)


async def _shown(pilot: Pilot[None], screen: LiveStepperScreen) -> None:
    await wait_for(pilot, lambda: pilot.app.screen is screen and screen.replay_done)
    await wait_for(pilot, lambda: screen.first_painted_at is not None)
    await screen.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def _state(screen: LiveStepperScreen) -> dict[str, Any]:
    """What the screen's widgets hold (a readable diff before the picture's)."""
    history = screen.query_one(HistoryView)
    out: dict[str, Any] = {
        "classes": sorted(screen.classes),
        "focused": screen.focused.id if screen.focused is not None else None,
        "position": screen.position,
        "pane": screen.pane,
        "breakpoints": list(screen.breakpoints),
        "history": (
            history.current_index,
            history.selected_index,
            history.filter_text,
            history.row_count,
            history.scroll_offset,
            str(history.border_title),
        ),
        "sub_title": screen.sub_title,
    }
    for pane in screen.query(TextPane).results():
        out[f"pane {pane.id}"] = (
            getattr(pane, "summary", None),
            pane.scroll_offset,
            str(pane.border_title),
            str(pane.border_subtitle),
            pane.display,
        )
    for source in screen.query(SourceView).results():
        out["source"] = (source.file, source.current_line, source.breakpoint_lines)
        out["source scroll"] = source.scroll_offset
    return out


async def _fresh(
    b: tuple[str, str | None], size: tuple[int, int], keys: tuple[str, ...]
) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    """A new stepper on B: what it shows, then what it shows after ``keys``."""
    app = _Host()
    async with app.run_test(size=size) as pilot:
        screen = LiveStepperScreen(_session(*b), origin="history via test")
        app.open(screen)
        await _shown(pilot, screen)
        first = _state(screen), app.export_screenshot()
        await pilot.press(*keys)
        await pilot.pause()
        return (*first, _state(screen), app.export_screenshot())


async def _reused(
    a: tuple[str, str | None],
    b: tuple[str, str | None],
    sizes: tuple[tuple[int, int], tuple[int, int]],
    moves: tuple[str, ...],
    keys: tuple[str, ...],
) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    """A on a stepper, moved about, back; B loaded into the same stepper."""
    app = _Host()
    async with app.run_test(size=sizes[0]) as pilot:
        screen = LiveStepperScreen(_session(*a), origin="history via test")
        app.open(screen)
        await _shown(pilot, screen)
        before = app.export_screenshot()
        await pilot.press(*moves)
        await pilot.pause()
        assert app.export_screenshot() != before  # the moves changed what A shows
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, _List))
        if sizes[1] != sizes[0]:
            await pilot.resize_terminal(*sizes[1])
            await pilot.pause()
        screen.load(_session(*b), origin="history via test")
        app.open(screen)
        await _shown(pilot, screen)
        first = _state(screen), app.export_screenshot()
        await pilot.press(*keys)
        await pilot.pause()
        return (*first, _state(screen), app.export_screenshot())


MOVES = (
    "n", "n", "n", "end",  # the failure (the problem pane shows)
    "up", "up", "b",  # a breakpoint on the selected event
    "slash", *"Task", "enter",  # a filter
    "down",
    "tab", "pagedown", "tab", "pagedown",  # other panes focused and scrolled
)  # fmt: skip

CASES = {
    "history-only": (("uncaught_failure-turn2", None), ("activity_chain-turn5", None)),
    "with code": (
        ("uncaught_failure-turn2", SAMPLES_APP),
        ("activity_chain-turn5", SAMPLES_APP),
    ),
    "non-determinism, then none": (
        ("activity_chain-turn5", NONDETERMINISTIC_APP),
        ("activity_chain-turn3", NONDETERMINISTIC_APP),
    ),
}
SIZES = {
    "160x48": ((160, 48), (160, 48)),
    "80x24": ((80, 24), (80, 24)),
    "120x34": ((120, 34), (120, 34)),
}
"""The sizes A is moved about in, then B shown at (the live app loads a kept stepper only at
the size it was laid out at: see the last test)."""


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sizes", SIZES)
async def test_a_reused_stepper_shows_what_a_new_one_shows(case: str, sizes: str) -> None:
    a, b = CASES[case]
    at = SIZES[sizes]
    moves = (*MOVES, "v", "v") if at[0][0] < 120 else MOVES
    keys = ("n", "n", "down", "b", "end", "v") if at[1][0] < 120 else ("n", "n", "b", "end")
    fresh = await _fresh(b, at[1], keys)
    reused = await _reused(a, b, at, moves, keys)
    assert reused[0] == fresh[0]
    assert reused[1] == fresh[1]
    assert reused[2] == fresh[2]
    assert reused[3] == fresh[3]


async def test_the_last_sessions_replay_reports_are_ignored() -> None:
    """A's worker may finish its slice after B is loaded: what it posts never reaches B."""
    app = _Host()
    async with app.run_test(size=(160, 48)) as pilot:
        a = _session("uncaught_failure-turn2", None)
        screen = LiveStepperScreen(a, origin="history via test")
        app.open(screen)
        await _shown(pilot, screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, _List))
        b = _session("activity_chain-turn5", None)
        screen.load(b, origin="history via test")
        app.open(screen)
        await _shown(pilot, screen)
        shown = _state(screen), app.export_screenshot()
        screen.post_message(ReplayProgressed(1, a.total, a))
        screen.post_message(NamesResolved({i: "stale" for i in range(b.total)}, a))
        screen.post_message(ReplayFinished(a.total, a))
        await pilot.pause()
        await pilot.pause()
        assert screen.query_one(StatePane).recorded == b.total
        assert (_state(screen), app.export_screenshot()) == shown
        # the same reports for B are taken (the test above could not fail without this)
        screen.post_message(NamesResolved({i: "named" for i in range(b.total)}, b))
        await pilot.pause()
        await pilot.pause()
        assert app.export_screenshot() != shown[1]


async def test_a_session_of_the_other_kind_is_refused() -> None:
    app = _Host()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = LiveStepperScreen(_session("activity_chain-turn5", None), origin="test")
        app.open(screen)
        await _shown(pilot, screen)
        with pytest.raises(ValueError):
            screen.load(_session("activity_chain-turn5", SAMPLES_APP), origin="test")
        assert screen.query_one(ActionsPane).frame is not None
        assert not screen.query_one(ProblemPane).has_class("-shown")


async def test_attach_keeps_one_stepper_and_loads_each_instance_into_it(
    sidecar: Any, client: Any, sdk_worker: Any
) -> None:
    _, address = sidecar
    for iid, orchestrator in (("one", samples.activity_chain), ("two", samples.uncaught_failure)):
        client.schedule_new_orchestration(orchestrator, instance_id=iid)
        wait_done(client, iid)
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            table = app.screen.query_one(InstancesTable)
            await wait_for(pilot, lambda: table.row_count == 2)
            opened: list[LiveStepperScreen] = []
            for iid in ("one", "two", "one"):
                table.move_cursor(row=table.get_row_index(iid))
                await pilot.press("enter")
                screen = await wait_for(
                    pilot,
                    lambda i=iid: (
                        isinstance(app.screen, LiveStepperScreen)
                        and app.screen.info.instance_id == i
                        and app.screen
                    ),
                )
                await wait_for(pilot, lambda s=screen: s.replay_done)
                assert f"{iid} · history via" in str(screen.query_one("#live-banner").render())
                opened.append(screen)
                await pilot.press("n", "n", "escape")
                await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
            assert opened[0] is opened[1] is opened[2]  # mounted once, loaded three times
            # the terminal resized meanwhile: a new stepper, kept from then on
            await pilot.resize_terminal(120, 34)
            for _ in range(2):
                table.move_cursor(row=table.get_row_index("two"))
                await pilot.press("enter")
                screen = await wait_for(
                    pilot, lambda: isinstance(app.screen, LiveStepperScreen) and app.screen
                )
                await wait_for(pilot, lambda s=screen: s.replay_done)
                opened.append(screen)
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
            assert opened[3] is not opened[0] and opened[4] is opened[3]
            assert not opened[0].is_attached  # the one replaced is gone
            # a stepper open when another is asked for (a held turn opens itself): a new one
            kept = opened[3]
            kept.load(kept.session, origin="again")
            app.push_screen(kept)
            await wait_for(pilot, lambda: app.screen is kept)
            other = app._stepper(ReplaySession(kept.session.request), origin="held")
            assert other is not kept
            await pilot.press("escape")
            await pilot.press("q")
    finally:
        app.close()


def _prepared(app: LiveApp, with_code: bool) -> LiveStepperScreen | None:
    """The stepper the app prepared ahead: kept, mounted, laid out, and not on the stack."""
    kept = app._steppers.get(with_code)
    if kept is None or not kept.is_mounted or kept in app.screen_stack:
        return None
    return kept if kept.outer_size == app.size else None


async def test_attach_prepares_its_stepper_before_the_first_open(
    sidecar: Any, client: Any, sdk_worker: Any
) -> None:
    """The first open of a session loads a stepper built ahead (no screen mounted on the key)."""
    _, address = sidecar
    client.schedule_new_orchestration(samples.activity_chain, instance_id="one")
    wait_done(client, "one")
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            table = app.screen.query_one(InstancesTable)
            await wait_for(pilot, lambda: table.row_count == 1)
            prepared = await wait_for(pilot, lambda: _prepared(app, False))
            assert isinstance(app.screen, LiveScreen) and app.screen.focused is table
            assert prepared.info.instance_id == ""  # never shown: nothing of an instance on it
            await pilot.press("enter")
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, LiveStepperScreen) and app.screen
            )
            assert screen is prepared
            await wait_for(pilot, lambda: screen.replay_done and screen.info.instance_id == "one")
            assert "one · history via" in str(screen.query_one("#live-banner").render())
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen))
            await pilot.press("q")
    finally:
        app.close()


async def test_the_stepper_is_prepared_once_nothing_is_over_the_list(sidecar: Any) -> None:
    """With a screen over the list, the stepper is prepared later (never under that screen)."""
    _, address = sidecar
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            prepared = await wait_for(pilot, lambda: _prepared(app, False))
            # as if it had never been prepared, with the help over the list
            app._steppers.clear()
            app.uninstall_screen(prepared)
            await pilot.press("question_mark")
            help_screen = await wait_for(
                pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen
            )
            app.prepare_stepper()
            await pilot.pause()
            await pilot.pause()
            assert app.screen is help_screen and not app._steppers
            await pilot.press("escape")
            again = await wait_for(pilot, lambda: _prepared(app, False))
            assert again is not prepared and isinstance(app.screen, LiveScreen)
            await pilot.press("q")
    finally:
        app.close()


async def test_attach_with_an_app_prepares_the_stepper_with_code(sidecar: Any) -> None:
    _, address = sidecar
    app = LiveApp(worker_config(address))
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            prepared = await wait_for(pilot, lambda: _prepared(app, True))
            assert prepared.info.with_code and False not in app._steppers
            await pilot.press("q")
    finally:
        app.close()


@pytest.mark.parametrize("ticks", [0, 2, 4, 8, 16])
async def test_the_app_closing_while_it_prepares_its_stepper_ends_cleanly(
    sidecar: Any, ticks: int
) -> None:
    """The app exits at some step of the preparing (the stepper mounting, pushed, popped)."""
    _, address = sidecar
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=(120, 34)) as pilot:
            prepared = await wait_for(pilot, lambda: _prepared(app, False))
            app._steppers.clear()
            app.uninstall_screen(prepared)
            app.prepare_stepper()
            for _ in range(ticks):
                await asyncio.sleep(0)
            app.exit()
    finally:
        app.close()
    assert app.return_code == 0


async def test_a_resized_terminal_has_its_stepper_prepared_again(sidecar: Any) -> None:
    """The kept stepper was laid out at the old size: one is prepared at the new size."""
    _, address = sidecar
    app = LiveApp(LiveConfig(connection=ConnectionOptions(address)))
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            before = await wait_for(pilot, lambda: _prepared(app, False))
            await pilot.resize_terminal(120, 34)
            after = await wait_for(pilot, lambda: _prepared(app, False))
            assert after is not before and after.outer_size == (120, 34)
            assert not before.is_attached and isinstance(app.screen, LiveScreen)
            await pilot.press("q")
    finally:
        app.close()
