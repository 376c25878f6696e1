"""What ``inspector replay`` and ``inspector --help`` load: only what they use (a fresh process).

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

from engine.proto import orchestrator_service_pb2 as pb

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
)
NOT_FOR_HELP = ("engine.history", "engine.proto", "google.protobuf", "durabletask", "textual")

_RUN = (
    "import json, runpy, sys\n"
    "sys.argv = ['inspector', *json.loads(sys.argv[1])]\n"
    "try:\n"
    "    runpy.run_module('inspector', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "else:\n"
    "    code = 0\n"
    "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}), file=sys.stderr)\n"
)


def _loaded(args: list[str]) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


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


def test_help_loads_neither_the_engine_nor_protobuf() -> None:
    code, modules = _loaded(["--help"])
    assert code == 0
    assert "argparse" in modules
    assert _present(modules, NOT_FOR_HELP) == []


def test_the_written_out_uuid_namespace_is_the_sdks() -> None:
    from engine import context

    derived = uuid.uuid5(uuid.NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875")
    assert derived == context._UUID_NAMESPACE
