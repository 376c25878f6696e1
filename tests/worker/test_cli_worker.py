"""``inspector worker``: capture files that ``inspector replay`` reads back; secrets unprinted."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT, WorkerProcess, wait_done

from engine.proto import orchestrator_service_pb2 as pb
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
