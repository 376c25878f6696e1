"""Quitting the live screen: it says "stopping…" at once, then stops everything it started."""

from __future__ import annotations

import threading
from typing import Any

from inspector.live import LiveApp
from inspector.screens.live_modals import StoppingScreen
from tests.live.test_attach import SIZE, wait_for, worker_config


async def test_q_shows_stopping_then_stops_the_worker_and_the_rest(sidecar: Any) -> None:
    _, address = sidecar
    peers_stopped = threading.Event()
    release = threading.Event()

    def stop_peers() -> None:
        release.wait(10)  # a slow peer: the overlay must already be up meanwhile
        peers_stopped.set()

    app = LiveApp(worker_config(address, on_close=[stop_peers]))
    threads_before = {t.ident for t in threading.enumerate()}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.worker_state == "connected", 30)
            await pilot.press("q")
            assert isinstance(app.screen, StoppingScreen)
            assert app.screen.text.startswith("stopping…")
            assert app.stopping and not peers_stopped.is_set()
            await pilot.press("q")  # a second q while stopping changes nothing
            assert isinstance(app.screen, StoppingScreen)
            release.set()
            await wait_for(pilot, peers_stopped.is_set, 30)
    finally:
        release.set()
        app.close()
    assert peers_stopped.is_set()
    assert app.worker is not None and app.worker_state == "stopped"
    leftover = [
        t.name
        for t in threading.enumerate()
        if t.ident not in threads_before and t.name.startswith(("worker-", "live-"))
    ]
    assert not leftover, leftover
