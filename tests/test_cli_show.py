"""``inspector show`` and the command-line dispatch."""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from engine.errors import LoadError
from engine.load import load_request_proto
from engine.proto import orchestrator_service_pb2 as pb
from inspector.__main__ import build_parser, main
from inspector.cli_show import RECORD_JSON_FORMAT, SHOW_JSON_FORMAT
from inspector.options import connection_options, worker_options

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted(
    p for p in (ROOT / "samples" / "requests").glob("*.b64") if not p.name.endswith(".response.b64")
)


def chain_request(n_turns: int, instance_id: str = "show-1") -> pb.OrchestratorRequest:
    req = pb.OrchestratorRequest(instanceId=instance_id)
    ev = req.pastEvents.add(eventId=-1)
    ev.orchestratorStarted.SetInParent()
    ev.timestamp.seconds = 1_700_000_000
    ev = req.pastEvents.add(eventId=-1)
    ev.executionStarted.name = "chain"
    ev.executionStarted.input.value = '{"n": 1}'
    ev.executionStarted.orchestrationInstance.instanceId = instance_id
    for i in range(n_turns):
        ev = req.pastEvents.add(eventId=i)
        ev.taskScheduled.name = "step"
        ev.taskScheduled.input.value = json.dumps({"i": i})
        ev.timestamp.seconds = 1_700_000_000 + i
        req.pastEvents.add(eventId=-1).orchestratorCompleted.SetInParent()
        lane = req.newEvents if i == n_turns - 1 else req.pastEvents
        lane.add(eventId=-1).orchestratorStarted.SetInParent()
        done = lane.add(eventId=-1).taskCompleted
        done.taskScheduledId = i
        done.result.value = json.dumps({"i": i})
    return req


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )


def event_lines(stdout: str) -> list[str]:
    """The listing's event lines: after the header, up to the blank line before the summary."""
    lines = stdout.splitlines()
    assert lines[0].split()[:3] == ["#", "lane", "eventId"]
    return lines[1 : lines.index("")]


def request_files(tmp_path: Path) -> list[Path]:
    if SAMPLES:
        return SAMPLES
    path = tmp_path / "generated.b64"
    path.write_bytes(base64.b64encode(chain_request(5).SerializeToString()))
    return [path]


# --- listing ----------------------------------------------------------------------------------


def test_show_lists_every_event_of_every_sample(tmp_path: Path) -> None:
    files = request_files(tmp_path)
    for path in files:
        proto = load_request_proto(path)
        expected = len(proto.pastEvents) + len(proto.newEvents)
        proc = run_cli("show", str(path))
        assert proc.returncode == 0, (path, proc.stderr.decode())
        out = proc.stdout.decode()
        lines = event_lines(out)
        assert len(lines) == expected, path
        n_past = len(proto.pastEvents)
        for index, line in enumerate(lines):
            fields = line.split()
            assert fields[0] == str(index)
            assert fields[1] == ("past" if index < n_past else "new")
        assert f"({n_past} past, {len(proto.newEvents)} new)" in out


def test_show_in_process_columns_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    req = chain_request(3)
    req.newEvents[0].ClearField("timestamp")
    long_input = "{\n" + ",\n".join(f'  "k{i}": "{"x" * 10}"' for i in range(20)) + "\n}"
    req.pastEvents[2].taskScheduled.input.value = long_input
    path_bytes = req.SerializeToString()
    from engine.load import load_request
    from inspector.cli_show import show_text

    text = show_text(load_request(path_bytes))
    lines = event_lines(text)
    assert len(lines) == len(req.pastEvents) + len(req.newEvents)
    header = text.splitlines()[0]
    # Columns are aligned: "kind" starts at the same offset in every line.
    kind_at = header.index("kind")
    assert all(line[kind_at - 2 : kind_at] == "  " for line in lines)
    scheduled = lines[2]
    assert "taskScheduled" in scheduled and "step" in scheduled
    assert "2023-11-14T22:13:20.000Z" in scheduled
    payload = scheduled.split("step", 1)[1].strip()
    assert payload.endswith("…") and len(payload) <= 60 and "\n" not in payload
    no_time = lines[len(req.pastEvents)]
    assert no_time.split()[3] == "-"
    summary = text.split("\n\n", 1)[1]
    assert "instance:      show-1" in summary
    assert "orchestration: chain" in summary
    assert '{"n": 1}' in summary
    assert "taskScheduled" in summary and "3" in summary


def test_show_json_has_the_documented_keys(tmp_path: Path) -> None:
    for path in request_files(tmp_path)[:10]:
        proto = load_request_proto(path)
        proc = run_cli("show", str(path), "--json")
        assert proc.returncode == 0, proc.stderr.decode()
        doc = json.loads(proc.stdout)
        assert doc["format"] == SHOW_JSON_FORMAT
        for key in ("instanceId", "executionId", "orchestration", "counts", "events", "status"):
            assert key in doc
        assert set(doc["orchestration"]) == {"name", "version", "input"}
        total = len(proto.pastEvents) + len(proto.newEvents)
        assert doc["counts"]["total"] == total == len(doc["events"])
        assert doc["counts"]["past"] == len(proto.pastEvents)
        assert sum(doc["counts"]["byKind"].values()) == total
        for index, event in enumerate(doc["events"]):
            assert set(event) == {
                "index",
                "lane",
                "eventId",
                "timestamp",
                "kind",
                "name",
                "payload",
                "details",
            }
            assert event["index"] == index
            assert event["kind"] == proto_kind(proto, index)
            assert event["details"]["event_id"] == event["eventId"]


def proto_kind(proto: pb.OrchestratorRequest, index: int) -> str:
    events = list(proto.pastEvents) + list(proto.newEvents)
    return events[index].WhichOneof("eventType") or "unknown"


def test_show_json_from_stdin() -> None:
    req = chain_request(2)
    proc = run_cli("show", "-", "--json", stdin=req.SerializeToString())
    assert proc.returncode == 0, proc.stderr.decode()
    doc = json.loads(proc.stdout)
    assert doc["instanceId"] == "show-1"
    assert doc["orchestration"]["name"] == "chain"
    assert doc["events"][0]["lane"] == "past"
    assert doc["events"][-1]["lane"] == "new"


def test_closed_stdout_pipe_is_quiet(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(chain_request(20_000).SerializeToString())
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "show", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err
    assert err == ""
    assert proc.returncode == 0


# --- dispatch and usage -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["show"],
        ["replay", "req.b64"],
        ["worker", "localhost:50051"],
        ["worker", "no-port", "--app", "x"],
        ["attach", "localhost:1", "--header", "novalue"],
        ["worker", "localhost:1", "--app", "x", "--turn-timeout", "0"],
        ["bogus"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    proc = run_cli(*argv)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr.decode()


def test_parser_arguments_of_the_contract() -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["attach", "sidecar:4001", "--tls", "--header", "Authorization=Bearer x=y", "--grace", "2"]
    )
    assert args.address == "sidecar:4001" and args.tls and args.app is None
    assert args.header == [("authorization", "Bearer x=y")]
    connection = connection_options(args)
    assert connection.address == "sidecar:4001" and connection.tls
    assert connection.headers == (("authorization", "Bearer x=y"),)
    options = worker_options(args, "app.py")
    assert options.grace == 2.0 and options.turn_timeout == 30.0
    assert options.activity_timeout == 300.0 and options.app == "app.py"
    args = parser.parse_args(
        ["worker", "[::1]:4001", "--app", "samples", "--max-activities", "4", "--record", "d"]
    )
    assert args.max_activities == 4 and args.max_orchestrations is None and args.record == "d"
    options = worker_options(args)
    assert options.max_activities == 4 and options.record_dir == "d" and options.app == "samples"
    assert options.max_timeouts == 3 and options.max_orchestrations >= 2
    args = parser.parse_args(["replay", "-", "--app", "a.py", "--output", "o", "--json"])
    assert (args.request, args.app, args.output, args.json) == ("-", "a.py", "o", True)
    args = parser.parse_args(["open", "r.b64"])
    assert args.app is None
    assert parser.parse_args(["demo"]).command == "demo"


def test_missing_handler_module_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    real = importlib.import_module

    def missing(name: str, package: str | None = None) -> types.ModuleType:
        if name == "inspector.cli_demo":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", missing)
    assert main(["demo"]) == 2
    assert capsys.readouterr().err == "inspector: 'demo' is not available yet\n"


def test_handler_dispatch_and_inspector_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []

    def run(args: argparse.Namespace) -> int:
        seen.append(args.request)
        return 3

    def failing(args: argparse.Namespace) -> int:
        raise LoadError("bad.b64: something\nspread over lines")

    monkeypatch.setitem(sys.modules, "inspector.cli_replay", types.SimpleNamespace(run=run))
    monkeypatch.setitem(sys.modules, "inspector.cli_open", types.SimpleNamespace(run=failing))
    assert main(["replay", "r.b64", "--app", "a"]) == 3
    assert seen == ["r.b64"]
    assert main(["open", "bad.b64"]) == 2
    assert capsys.readouterr().err == "inspector: bad.b64: something spread over lines\n"


# --- recorded responses -------------------------------------------------------------------------


def test_show_names_every_committed_response(capsys: pytest.CaptureFixture[str]) -> None:
    responses = sorted((ROOT / "samples" / "requests").glob("*.response.b64"))
    assert responses
    for path in responses:
        sent = pb.OrchestratorResponse.FromString(base64.b64decode(path.read_bytes()))
        assert main(["show", str(path), "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert (doc["format"], doc["kind"]) == (RECORD_JSON_FORMAT, "orchestratorResponse")
        assert doc["instanceId"] == sent.instanceId
        assert [a["kind"] for a in doc["actions"]] == [
            a.WhichOneof("orchestratorActionType") for a in sent.actions
        ]
        assert main(["show", str(path)]) == 0
        text = capsys.readouterr().out
        assert text.startswith("file:          orchestrator response (OrchestratorResponse)")
        assert f"actions:       {len(sent.actions)}\n" in text


def test_show_agrees_with_the_stepper_on_times_and_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No timestamp reads ``-`` (never 1970), completions are named after their task."""
    assert main(["show", str(ROOT / "samples" / "requests" / "activity_chain-turn2.b64")]) == 0
    out = capsys.readouterr().out
    assert "1970-01-01" not in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:7]}
    assert rows["1"][3] == "-"  # executionStarted carries the zero time
    assert rows["5"][3:6] == ["-", "taskCompleted", "say_hello"]
    assert rows["4"][3].startswith("2026-11-23T16:35:38.136")
