"""Durable Functions apps written with ``durabletask-azurefunctions`` (``DFApp``), loaded with
``--app`` unmodified: ``replay`` answers each recorded turn as the package's own orchestration
trigger answers the same base64 request, and ``open`` steps the app's orchestrator.

No Functions host can run here. The turns are recorded on the SDK's in-memory sidecar with the
SDK's worker standing in for the host: it runs the orchestrator behind each orchestration
trigger under the function's name, and calls each activity trigger's function with its input
alone (what the host does); the package's trigger handling is then the peer for every turn.
Tested against durabletask-azurefunctions 0.0.0.dev5 with azure-functions 1.26.0 and
durabletask 1.12. That alpha's worker does not run its parent's constructor and predates the
fields SDK 1.12's executor reads (``_payload_store``, ``_data_converter``, ...): as released, its
orchestration trigger raises ``AttributeError`` on SDK 1.12. The peer is given, for each field it
lacks, the default SDK 1.12's constructor sets (:func:`sdk_defaults`), and nothing else.
"""

from __future__ import annotations

import base64
import inspect
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("durabletask.azurefunctions")

from appopts_support import (  # noqa: E402 - after the skip
    QUIET,
    WorkerProcess,
    final_state,
    free_port,
    keep_sys_path,  # noqa: F401 - autouse: restores sys.path after each test
    run_cli,
)
from durabletask import client as dt_client  # noqa: E402
from durabletask import worker as dt_worker  # noqa: E402
from replay_compare import normalized, parse_response  # noqa: E402

from engine.app_loader import load_app  # noqa: E402
from engine.load import load_request  # noqa: E402
from engine.session import ReplaySession  # noqa: E402
from samples import function_app  # noqa: E402
from samples.record import RecordingBackend  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = "samples/function_app.py"


FUNCTIONS = function_app.app.get_functions()  # indexes the app: once (as the Functions host)


def _host_stand_in(port: int) -> dt_worker.TaskHubGrpcWorker:
    """The SDK's worker serving the app's triggers as the Functions host would."""
    w = dt_worker.TaskHubGrpcWorker(host_address=f"127.0.0.1:{port}", logger=QUIET)
    for function in FUNCTIONS:
        trigger = function.get_trigger()
        handle = function.get_user_function()
        name = function.get_function_name()
        if trigger.get_binding_name() == "orchestrationTrigger":
            w._registry.add_named_orchestrator(name, handle.orchestrator_function)
        elif trigger.get_binding_name() == "activityTrigger":
            w._registry.add_named_activity(
                name, lambda ctx, value, fn=handle, arg=trigger.name: fn(**{arg: value})
            )
    return w


@pytest.fixture(scope="module")
def turns() -> Iterator[list[tuple[str, bytes]]]:
    """Every turn of the app's two orchestrations: (orchestrator name, serialized request)."""
    port = free_port()
    backend = RecordingBackend(port)
    backend.start()
    w = _host_stand_in(port)
    w.start()
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        client.schedule_new_orchestration(
            "greet_cities", input=["Tokyo", "Lima", "Oslo"], instance_id="greet"
        )
        client.schedule_new_orchestration("careful_order", input="pear", instance_id="order")
        assert final_state(client, "greet")[0] == "COMPLETED"
        client.wait_for_orchestration_start("order", timeout=60)
        backend.wait_for_turns("order", 3)  # started, the failure caught, the timer fired
        client.raise_orchestration_event("order", "approval", data="yes")
        assert final_state(client, "order")[:2] == ("COMPLETED", '"pear: yes"')
    finally:
        client.close()
        w.stop()
        backend.stop(grace=0)
    names = {"greet": "greet_cities", "order": "careful_order"}
    yield [(names[t.instance_id], t.request) for t in backend.turns]


@pytest.fixture(autouse=True)
def sdk_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """The package's worker, given the defaults of the SDK fields it predates (see above)."""
    from durabletask.azurefunctions.worker import DurableFunctionsWorker

    template = vars(dt_worker.TaskHubGrpcWorker(logger=QUIET))
    released = DurableFunctionsWorker.__init__

    def init(self: Any) -> None:
        released(self)
        for name, value in template.items():
            if not hasattr(self, name):
                setattr(self, name, value)

    monkeypatch.setattr(DurableFunctionsWorker, "__init__", init)


def _trigger_answer(name: str, request_b64: str) -> Any:
    """What the package's orchestration trigger returns for the request (base64 response)."""
    (function,) = [f for f in FUNCTIONS if f.get_function_name() == name]
    return parse_response(base64.b64decode(function.get_user_function()(request_b64)))


def test_replay_answers_every_turn_as_the_orchestration_trigger(
    turns: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    assert len(turns) >= 7 and {name for name, _ in turns} == {"greet_cities", "careful_order"}
    for n, (name, request) in enumerate(turns):
        text = base64.b64encode(request).decode()
        path = tmp_path / f"turn-{n}.b64"
        path.write_text(text)
        done = run_cli("replay", str(path), "--app", APP)
        assert done.returncode == 0, done.stderr
        ours = parse_response(base64.b64decode(done.stdout))
        assert normalized(ours) == normalized(_trigger_answer(name, text)), (n, name)


def test_the_function_app_object_can_be_named(
    turns: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    name, request = turns[-1]
    path = tmp_path / "last.b64"
    path.write_text(base64.b64encode(request).decode())
    named = run_cli("replay", str(path), "--app", f"{APP}:app")
    plain = run_cli("replay", str(path), "--app", APP)
    assert named.returncode == 0 and named.stdout == plain.stdout, named.stderr


def test_the_registry_is_the_apps_functions() -> None:
    app = load_app(APP)
    for name in ("greet_cities", "careful_order", "say_hello", "shout", "reserve"):
        assert name in app.functions
    orchestrator = app.functions["greet_cities"]  # the function behind the trigger
    assert inspect.isgeneratorfunction(orchestrator) and orchestrator.__qualname__ == "greet_cities"
    assert app.functions["say_hello"](None, "Rome") == "Hello Rome"  # the input alone
    assert "http_start" not in app.functions


def test_open_steps_the_apps_orchestrator(turns: list[tuple[str, bytes]], tmp_path: Path) -> None:
    name, request = next(t for t in reversed(turns) if t[0] == "greet_cities")
    path = tmp_path / "greet.b64"
    path.write_bytes(base64.b64encode(request))
    app = load_app(APP)
    session = ReplaySession(app.resolved(load_request(path)), app)
    frame = session.run_to_end()
    assert frame.status == "COMPLETED" and frame.custom_status == '{"greeted": 3}'
    located = [session.frame(i).location for i in range(len(session.request.events))]
    lines = {
        loc.line for loc in located if loc is not None and loc.file.endswith("function_app.py")
    }
    assert lines, "no step stopped in the app's orchestrator"


def _ends(port: int) -> dict[str, Any]:
    """Run both orchestrations (the approval raised once the order waits for it)."""
    client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
    try:
        client.schedule_new_orchestration("greet_cities", input=["Rome", "Kyiv"], instance_id="g")
        client.schedule_new_orchestration("careful_order", input="fig", instance_id="o")
        ends = {"g": final_state(client, "g")}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = client.get_orchestration_state("o")
            if state is not None and state.serialized_custom_status:
                break  # the failure was caught: it waits on the timer, then the event
            time.sleep(0.05)
        client.raise_orchestration_event("o", "approval", data="ok")
        ends["o"] = final_state(client, "o")
        return ends
    finally:
        client.close()


def test_the_worker_serves_the_app_as_the_stand_in_host_does(tmp_path: Path) -> None:
    """``inspector worker --app`` on the Functions app, side by side with the SDK's worker
    standing in for the host: both orchestrations end the same."""
    results = []
    for ours in (False, True):
        port = free_port()
        backend = RecordingBackend(port)
        backend.start()
        if ours:
            stop = WorkerProcess(f"127.0.0.1:{port}", APP, log=tmp_path / "w.log").stop
        else:
            host = _host_stand_in(port)
            host.start()
            stop = host.stop
        try:
            results.append(_ends(port))
        finally:
            stop()
            backend.stop(grace=0)
    theirs, mine = results
    assert theirs["g"] == ("COMPLETED", '["HELLO ROME", "HELLO KYIV"]', '{"greeted": 2}', None)
    assert theirs["o"][:3] == ("COMPLETED", '"fig: ok"', '"reserve failed: fig is out of stock"')
    assert mine == theirs
