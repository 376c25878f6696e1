"""Holding through the tap: the SDK's worker behind it, the SDK's sidecar and client as judges.

A held orchestrator completion is not forwarded (the instance does not move on) while other
work flows; release forwards the worker's own answer, abandon gives the work item back (the
sidecar redelivers it and the worker serves it again), and a stop forwards what is held.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from durabletask import client as dt_client

from engine.channel import ConnectionOptions
from engine.holds import HoldGate
from engine.tap import Tap, TapOptions
from engine.worker import Outcome, WorkItemEvent

from .scenario import sdk_worker, wait_done
from .support import QUIET, sidecar, wait_until

PENDING = dt_client.OrchestrationStatus.PENDING


class Events:
    """The tap's events, as its capture thread reports them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.all: list[WorkItemEvent] = []

    def add(self, event: WorkItemEvent) -> None:
        with self.lock:
            self.all.append(event)

    def of(self, instance: str, outcome: Outcome) -> list[WorkItemEvent]:
        with self.lock:
            return [e for e in self.all if e.instance_id == instance and e.outcome is outcome]


@contextmanager
def tapped(
    tmp_path: Path,
) -> Iterator[tuple[Tap, HoldGate, Events, dt_client.TaskHubGrpcClient, int]]:
    """Sidecar, a tap with a hold gate in front of it, the SDK's worker behind the tap."""
    with sidecar() as (_, port):
        gate, events = HoldGate(), Events()
        options = TapOptions(
            "127.0.0.1:0", ConnectionOptions(f"127.0.0.1:{port}"), record_dir=str(tmp_path)
        )
        tap = Tap(options, on_event=events.add, holds=gate)
        tap_port = tap.start()
        worker = sdk_worker(f"127.0.0.1:{tap_port}", QUIET)
        client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
        try:
            worker.start()
            yield tap, gate, events, client, port
        finally:
            client.close()
            tap.stop()  # first: it forwards what is held, which the worker's stop waits for
            worker.stop()


def _hold_next(gate: HoldGate, instance: str) -> None:
    gate.toggle("")  # clear the rules
    gate.toggle(f"instance={instance}")
    if not gate.armed:
        gate.toggle_armed()


def test_a_held_turn_waits_then_release_forwards_and_abandon_redelivers(tmp_path: Path) -> None:
    with tapped(tmp_path) as (tap, gate, events, client, _):
        _hold_next(gate, "held-r")
        client.schedule_new_orchestration("chain", input=["r"], instance_id="held-r")
        others = [f"other-{n}" for n in range(3)]
        for iid in others:
            client.schedule_new_orchestration("chain", input=["x", "y"], instance_id=iid)
        wait_until("the held turn", lambda: len(tap.held_tokens()) == 1)
        assert not gate.armed  # one turn per arming
        for iid in others:  # other work flows while one completion is held
            assert wait_done(client, iid).runtime_status.name == "COMPLETED"
        (held,) = events.of("held-r", Outcome.HELD)
        assert held.result == "HELD" and held.detail == "1 action" and held.response
        assert held.token == tap.held_tokens()[0] and held.worker
        state = client.get_orchestration_state("held-r")
        assert state is not None and state.runtime_status == PENDING  # its first turn not forwarded

        assert tap.release_held(held.token)
        assert not tap.release_held(held.token)  # settled once
        done = wait_done(client, "held-r")
        assert (done.runtime_status.name, done.serialized_output) == ("COMPLETED", '["hello r"]')
        wait_until(
            "the released turn's event", lambda: bool(events.of("held-r", Outcome.COMPLETED))
        )
        released = [e for e in events.all if e.number == held.number and e is not held]
        assert [e.outcome for e in released] == [Outcome.COMPLETED]

        _hold_next(gate, "held-a")
        client.schedule_new_orchestration("chain", input=["a"], instance_id="held-a")
        wait_until("the second held turn", lambda: len(tap.held_tokens()) == 1)
        (held,) = events.of("held-a", Outcome.HELD)
        assert tap.abandon_held(held.token)
        # The sidecar got an abandon with the work item's token: it redelivers the turn.
        done = wait_done(client, "held-a")
        assert (done.runtime_status.name, done.serialized_output) == ("COMPLETED", '["hello a"]')
        (abandoned,) = events.of("held-a", Outcome.ABANDONED)
        assert abandoned.number == held.number and "while held" in abandoned.detail
        assert (tmp_path / f"{held.number:06d}-held-a-turn.abandoned").exists()
        redelivered = [e for e in events.of("held-a", Outcome.COMPLETED) if e.number > held.number]
        assert redelivered  # the worker served it again, behind the tap
        assert tap.stats.abandoned == 1 and tap.stats.undelivered == 0


def test_what_is_held_is_forwarded_when_the_tap_stops(tmp_path: Path) -> None:
    logs: list[str] = []
    with sidecar() as (_, port):
        gate = HoldGate()
        events = Events()
        sidecar_options = ConnectionOptions(f"127.0.0.1:{port}")
        tap = Tap(
            TapOptions("127.0.0.1:0", sidecar_options), events.add, log=logs.append, holds=gate
        )
        tap_port = tap.start()
        worker = sdk_worker(f"127.0.0.1:{tap_port}", QUIET)
        client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
        direct = None
        try:
            worker.start()
            _hold_next(gate, "held-s")
            client.schedule_new_orchestration("chain", input=["s"], instance_id="held-s")
            wait_until("the held turn", lambda: len(tap.held_tokens()) == 1)
            tap.stop()
            assert tap.held_tokens() == []
            assert any("forwarded 1 held completion" in line for line in logs)
            (held,) = events.of("held-s", Outcome.HELD)
            after = [e.outcome for e in events.all if e.number == held.number and e is not held]
            assert after == [Outcome.COMPLETED]
            assert tap.stats.abandoned == 0 and "0 open" in logs[-1]
            worker.stop()
            # Nothing lost: the forwarded answer scheduled the activity; a worker straight
            # on the sidecar finishes the orchestration.
            direct = sdk_worker(f"127.0.0.1:{port}", QUIET)
            direct.start()
            done = wait_done(client, "held-s", timeout=120)
            assert (done.runtime_status.name, done.serialized_output) == (
                "COMPLETED",
                '["hello s"]',
            )
        finally:
            client.close()
            tap.stop()
            worker.stop()
            if direct is not None:
                direct.stop()
