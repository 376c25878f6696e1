"""The stepper's start: the replay begins once the history is drawn, the cyclic collector is
held off only until then, and the footer shows its keys from the first frame."""

from __future__ import annotations

import gc

from textual.widgets import Footer

from inspector.widgets.history import HistoryView
from tests.tui.conftest import SAMPLES_APP, AppFactory, replayed

CHAIN = "activity_chain-turn5"


async def test_replay_starts_after_the_history_is_drawn(make_app: AppFactory) -> None:
    app = make_app(CHAIN, SAMPLES_APP)
    assert gc.isenabled()
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        screen = app.stepper
        assert screen is app.screen_stack[0]  # the app's first screen: nothing under it
        assert screen.first_painted_at is not None
        assert screen.replay_done
        assert gc.isenabled()  # held off from compose to the first frame only
        assert screen.query_one(HistoryView).row_count == 18
    assert gc.isenabled()


async def test_footer_keys_are_shown_and_kept(make_app: AppFactory) -> None:
    app = make_app(CHAIN)
    async with app.run_test(size=(160, 48)) as pilot:
        await replayed(pilot)
        footer = app.stepper.query_one(Footer)
        keys = [getattr(k, "key", None) for k in footer.children]
        assert "n" in keys and "q" in keys and "question_mark" in keys
        before = list(footer.children)
        await pilot.press("tab")  # focus moves: the footer's keys are the same ones
        await pilot.pause()
        assert list(footer.children) == before
