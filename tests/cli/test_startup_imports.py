"""What ``inspector replay``, ``show`` and ``--help`` load: only what they use (a fresh process).

The start-up cost of a command is mostly its imports; these tests pin the heavy or unneeded
modules out of the two shortest paths. Speed itself is measured in ``bench/bench_process.py``.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from engine.proto import orchestrator_service_pb2 as pb
from inspector.__main__ import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "bench" / "replay_app.py"

# Never needed to replay headless: the UI, the wire to a sidecar, the event dataclasses (a
# headless replay reads protobuf), the frame recorder, the SDK's worker, hashlib (new_uuid
# loads it when an orchestrator asks for one).
NOT_FOR_REPLAY = (
    "textual",
    "rich",
    "pygments",
    "grpc",
    "engine.events",
    "engine.convert",
    "engine.frames",
    "engine.session",
    "engine.worker",
    "durabletask.worker",
    "hashlib",
    # The other recorded files, rewinds, Dapr's schema, the legacy entity shape, the JSON
    # mapping: loaded only when a request needs them. pathlib and shutil (argparse's terminal
    # width) cost more to import than a short replay takes.
    "engine.recording",
    "engine.rewind",
    "engine.dapr_wire",
    "engine.proto.dapr_workflow_pb2",
    "engine.entity_legacy",
    "google.protobuf.json_format",
    "pathlib",
    "shutil",
)
# ``show`` on a request: no UI, no network, no worker; the other recorded files' classes and
# Dapr's wire reader load only for the files that need them. Its state is the history-only
# replay's end: neither the stepper (session, frame recording), the code replayer nor the SDK,
# and its commonest events are read without their dataclasses.
NOT_FOR_SHOW = (
    "durabletask",
    "engine.session",
    "engine.replay",
    "engine.turn",
    "engine.context",
    "engine.events",
    "engine.convert",
    "textual",
    "rich",
    "pygments",
    "grpc",
    "engine.worker",
    "durabletask.worker",
    "engine.recording",
    "engine.dapr_wire",
    "hashlib",
    "pathlib",
    "shutil",
)
NOT_FOR_HELP = ("engine.history", "engine.proto", "google.protobuf", "durabletask", "textual")

# The modules are read by an exit handler: a replay process ends without the interpreter's
# teardown (inspector.cli_replay.end_process), but after its exit handlers.
_RUN = (
    "import atexit, json, runpy, sys\n"
    "sys.argv = ['inspector', *json.loads(sys.argv[1])]\n"
    "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
    "runpy.run_module('inspector', run_name='__main__')\n"
)


def _loaded(args: list[str]) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, set(json.loads(done.stderr.strip().splitlines()[-1]))


def _present(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


def test_a_one_event_replay_loads_nothing_it_does_not_use(tmp_path: Path) -> None:
    one = pb.OrchestratorRequest(instanceId="startup-one")
    started = one.newEvents.add(eventId=-1).executionStarted
    started.name = "chain_orchestrator"
    started.input.value = "0"
    request = tmp_path / "one.b64"
    request.write_bytes(base64.b64encode(one.SerializeToString()))
    out = tmp_path / "out.b64"
    code, modules = _loaded(["replay", str(request), "--app", str(APP), "--output", str(out)])
    assert code == 0
    response = pb.OrchestratorResponse.FromString(base64.b64decode(out.read_text()))
    assert response.instanceId == "startup-one"
    assert response.actions[0].completeOrchestration.result.value == "0"
    assert "engine.replay" in modules  # the check sees what the command did load
    assert _present(modules, NOT_FOR_REPLAY) == []


@pytest.mark.parametrize("flags", [[], ["--json"]], ids=["listing", "json"])
def test_show_loads_nothing_it_does_not_use(tmp_path: Path, flags: list[str]) -> None:
    one = pb.OrchestratorRequest(instanceId="startup-show")
    started = one.pastEvents.add(eventId=-1).executionStarted
    started.name = "chain_orchestrator"
    one.newEvents.add(eventId=0).taskScheduled.name = "step"
    request = tmp_path / "one.b64"
    request.write_bytes(base64.b64encode(one.SerializeToString()))
    code, modules = _loaded(["show", str(request), *flags])
    assert code == 0
    assert "engine.event_rows" in modules  # the check sees what the command did load
    assert _present(modules, NOT_FOR_SHOW) == []


def test_help_loads_neither_the_engine_nor_protobuf() -> None:
    code, modules = _loaded(["--help"])
    assert code == 0
    assert "argparse" in modules
    assert _present(modules, NOT_FOR_HELP) == []


def test_the_written_out_uuid_namespace_is_the_sdks() -> None:
    from engine import context

    derived = uuid.uuid5(uuid.NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875")
    assert derived == context._UUID_NAMESPACE


PARSED = [
    ["open", "r.b64", "--app", "a.py", "--max-timer-interval", "60"],
    ["show", "r.b64", "--json"],
    ["replay", "r.b64", "--app", "a.py", "--output", "o", "--json"],
    ["attach", "h:1", "--tls", "--header", "k=v", "--turn-timeout", "5"],
    ["worker", "h:1", "--app", "a.py", "--max-activities", "3", "--record", "d"],
    ["tap", "127.0.0.1:7001", "--sidecar", "h:1", "--grace", "2"],
    ["demo"],
]


@pytest.mark.parametrize("argv", PARSED, ids=lambda a: a[0])
def test_the_parser_built_for_one_command_reads_it_as_the_full_one(argv: list[str]) -> None:
    assert build_parser(argv[0]).parse_args(argv) == build_parser().parse_args(argv)


@pytest.mark.parametrize("command", COMMANDS)
def test_the_parser_built_for_one_command_helps_and_fails_as_the_full_one(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in ([command, "--help"], [command, "--no-such-option"]):
        outputs = []
        for parser in (build_parser(command), build_parser()):
            with pytest.raises(SystemExit) as exit_info:
                parser.parse_args(argv)
            out, err = capsys.readouterr()
            outputs.append((exit_info.value.code, out, err))
        assert outputs[0] == outputs[1]
        assert outputs[0][1] or outputs[0][2]


def test_the_loader_knows_the_abandon_note_suffix_the_recorder_writes() -> None:
    from engine import load, recording

    assert load._ABANDONED_SUFFIX == recording.ABANDONED_SUFFIX


def test_a_history_only_session_loads_neither_the_code_replayer_nor_the_sdk() -> None:
    script = (
        "import json, sys\n"
        "from engine.history import OrchestrationRequest\n"
        "from engine.proto import orchestrator_service_pb2 as pb\n"
        "from engine.session import ReplaySession\n"
        "msg = pb.OrchestratorRequest(instanceId='s')\n"
        "msg.pastEvents.add(eventId=-1).executionStarted.name = 'o'\n"
        "msg.pastEvents.add(eventId=0).taskScheduled.name = 'a'\n"
        "frame = ReplaySession(OrchestrationRequest(msg)).run_to_end()\n"
        "assert frame.status == 'RUNNING' and len(frame.open_tasks) == 1\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout))
    assert "engine.history_replay" in modules
    unneeded = ("durabletask", "engine.replay", "engine.context", "engine.headless")
    assert _present(modules, unneeded) == []
