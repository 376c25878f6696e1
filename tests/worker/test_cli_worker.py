"""``inspector worker``: capture files ``show``, ``open`` and ``replay`` read back; no secrets."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import FIXTURE_APP, ROOT, WorkerProcess, wait_done

from engine.proto import orchestrator_service_pb2 as pb
from inspector.__main__ import main
from samples import orchestrations as samples


def test_record_and_headers(tmp_path: Path, sidecar: Any, client_for: Any) -> None:
    _, port = sidecar
    capture = tmp_path / "capture"
    worker = WorkerProcess(
        f"127.0.0.1:{port}",
        "samples.orchestrations",
        "--record",
        str(capture),
        "--header",
        "authorization=Bearer s3cret-value",
        log=tmp_path / "w.log",
    )
    try:
        client = client_for(port)
        iid = client.schedule_new_orchestration(samples.single_activity, input="rec")
        assert wait_done(client, iid).serialized_output == '"Hello, rec!"'
        assert worker.terminate() == 0
        log = worker.output()
        assert "s3cret-value" not in log
        assert "authorization" in log
        assert "single_activity COMPLETED" in log and "say_hello ok" in log
        turns = sorted(capture.glob("*-turn.b64"))
        assert len(turns) == 2
        assert sorted(capture.glob("*-activity-say_hello.response.b64"))
        last = turns[-1]
        replayed = subprocess.run(
            [
                sys.executable,
                "-m",
                "inspector",
                "replay",
                str(last),
                "--app",
                "samples.orchestrations",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert replayed.returncode == 0, replayed.stderr
        sent = pb.OrchestratorResponse.FromString(
            base64.b64decode(last.with_name(last.stem + ".response.b64").read_text())
        )
        assert sent.completionToken  # the work item's token, echoed
        sent.completionToken = ""
        assert pb.OrchestratorResponse.FromString(base64.b64decode(replayed.stdout)) == sent
    finally:
        worker.stop()


def test_app_that_does_not_load_exits_2(tmp_path: Path, sidecar: Any) -> None:
    _, port = sidecar
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "worker", f"127.0.0.1:{port}", "--app", "no_such_mod"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no such app module: no_such_mod" in result.stderr
    assert "Traceback" not in result.stderr


# --- every file --record writes can be read back -----------------------------------------------


def show(capsys: Any, path: Path, *extra: str) -> str:
    assert main(["show", str(path), *extra]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return str(out)


def refused(path: Path, command: str) -> str:
    args = [command, str(path)] + (["--app", FIXTURE_APP] if command == "replay" else [])
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"inspector: {path}: this is ")
    assert lines[0].endswith(", not an OrchestratorRequest")
    return lines[0]


def record(tmp_path: Path, port: int, folder: str, *extra: str) -> tuple[Path, WorkerProcess]:
    capture = tmp_path / folder
    worker = WorkerProcess(
        f"127.0.0.1:{port}",
        FIXTURE_APP,
        "--record",
        str(capture),
        *extra,
        log=tmp_path / f"{folder}.log",
    )
    return capture, worker


def test_show_reads_every_file_record_writes(
    tmp_path: Path, sidecar: Any, client_for: Any, capsys: Any
) -> None:
    _, port = sidecar
    client = client_for(port)
    served, worker = record(tmp_path, port, "served")
    try:
        quick = client.schedule_new_orchestration("quick", input={"n": 7})
        missing = client.schedule_new_orchestration("calls_missing")
        assert wait_done(client, quick).serialized_output == '{"n": 7}'
        assert wait_done(client, missing).runtime_status.name == "COMPLETED"
        assert worker.terminate() == 0
    finally:
        worker.stop()
    # A turn that never ends is abandoned once, then failed: an abandon note and a response.
    stuck, worker = record(tmp_path, port, "stuck", "--turn-timeout", "1", "--max-timeouts", "2")
    try:
        spin = client.schedule_new_orchestration("spin")
        assert wait_done(client, spin, timeout=120).runtime_status.name == "FAILED"
        assert worker.terminate() == 0
    finally:
        worker.stop()

    files = sorted(served.iterdir()) + sorted(stuck.iterdir())
    kinds = {p.name: kind_of(p.name) for p in files}
    assert set(kinds.values()) == {
        "orchestratorRequest",
        "orchestratorResponse",
        "activityRequest",
        "activityResponse",
        "abandonNote",
    }, kinds
    docs = {path: json.loads(show(capsys, path, "--json")) for path in files}
    names = {quick: "quick", missing: "calls_missing", spin: "spin"}
    for path in files:
        assert docs[path]["kind"] == kinds[path.name], path.name
        check_shown(path, docs, show(capsys, path), names)
    for kind in ("orchestratorResponse", "activityRequest", "activityResponse", "abandonNote"):
        path = next(p for p in files if kinds[p.name] == kind)
        assert refused(path, "replay") == refused(path, "open")


def kind_of(name: str) -> str:
    if name.endswith(".abandoned"):
        return "abandonNote"
    activity = "-activity-" in name
    if name.endswith(".response.b64"):
        return "activityResponse" if activity else "orchestratorResponse"
    return "activityRequest" if activity else "orchestratorRequest"


def check_shown(path: Path, docs: dict[Path, Any], text: str, names: dict[str, str]) -> None:
    doc = docs[path]
    kind = doc["kind"]
    if kind == "orchestratorRequest":
        assert doc["format"] == "durable-inspector/show/1"
        assert doc["orchestration"]["name"] == names[doc["instanceId"]]
        assert f"instance:      {doc['instanceId']}" in text
        return
    assert doc["format"] == "durable-inspector/record/1"
    if kind == "abandonNote":
        assert (path.parent / doc["requestFile"]).is_file()
        assert "timed out after 1s" in doc["reason"] and "worker_app.py" in doc["reason"]
        assert f"request:       {doc['requestFile']}" in text
        return
    assert doc["instanceId"] in names
    assert f"instance:      {doc['instanceId']}" in text
    if kind == "activityRequest":
        assert path.name.endswith(f"-activity-{doc['name']}.b64")
        assert isinstance(doc["taskId"], int) and doc["taskId"] >= 0
        assert f"activity:      {doc['name']}" in text
        assert f"task id:       {doc['taskId']}" in text
        shown_input = doc["input"] if doc["input"] is not None else "-"
        assert f"input:         {shown_input}" in text
        if doc["name"] == "echo":
            assert json.loads(doc["input"]) == {"n": 7}
    elif kind == "activityResponse":
        request = docs[path.with_name(path.name.replace(".response.b64", ".b64"))]
        assert doc["taskId"] == request["taskId"]
        assert doc["completionToken"]
        failed = request["name"] in ("no_such_activity", "bad_activity")
        assert (doc["failure"] is not None) == failed, doc
        if failed:
            assert f"failure:       {doc['failure']['error_type']}: " in text
        else:
            assert json.loads(doc["result"]) == {"n": 7}
    else:
        assert doc["actions"] and doc["completionToken"]
        for action in doc["actions"]:
            assert f"  #{action['id']} {action['kind']}" in text
        assert "orchestrator response (OrchestratorResponse)" in text
