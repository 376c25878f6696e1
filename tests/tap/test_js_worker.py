"""The JavaScript SDK's worker (``@microsoft/durabletask-js``) served through ``inspector tap``.

Needs Node and the package installed by ``npm ci --prefix tests/tap/js`` (``.ci/run`` does it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from durabletask import client as dt_client

from inspector.__main__ import main

from .scenario import EXPECTED_OUTPUTS, Final, drive
from .support import QUIET, TapProcess, free_port, show_every_recorded_file, sidecar, wait_until

JS = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")
INSTALLED = (JS / "node_modules" / "@microsoft" / "durabletask-js" / "package.json").exists()

pytestmark = pytest.mark.skipif(
    NODE is None or not INSTALLED,
    reason="needs node and @microsoft/durabletask-js: npm ci --prefix tests/tap/js"
    if NODE
    else "node is not installed",
)


class NodeWorker:
    """``node js/worker.js ADDRESS`` as a child process, output to a file."""

    def __init__(self, address: str, log: Path) -> None:
        assert NODE is not None
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [NODE, str(JS / "worker.js"), address],
            cwd=JS,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until("the JavaScript worker", self._ready, timeout=60)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"node exited ({self.proc.returncode}):\n{self.output()}")
        return "ready" in self.output()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def _run(through_tap: bool, folder: Path) -> tuple[Final, str]:
    with sidecar() as (_, port):
        tap = None
        address = f"127.0.0.1:{port}"
        if through_tap:
            tap = TapProcess(
                free_port(), port, "--record", str(folder / "rec"), log=folder / "tap.log"
            )
            address = tap.address
        worker = None
        client = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
        try:
            worker = NodeWorker(address, folder / f"node-{through_tap}.log")
            final = drive(client)
            log = ""
            if tap is not None:
                assert tap.terminate() == 0, tap.output()
                log = tap.output()
            return final, log
        finally:
            client.close()
            if worker is not None:
                worker.stop()
            if tap is not None:
                tap.stop()


def test_the_javascript_worker_completes_the_scenario_through_the_tap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    direct, _ = _run(False, tmp_path)
    tapped, log = _run(True, tmp_path)
    assert tapped == direct
    for iid, expected in EXPECTED_OUTPUTS.items():
        status, output, failure = tapped[iid]
        assert (status, failure) == ("COMPLETED", None), iid
        assert json.loads(output or "null") == expected, iid
    lines = [line for line in log.splitlines() if " via " in line]
    assert sum(" activity " in line for line in lines) == 6
    assert any(" fail FAILED " in line for line in lines)
    assert "0 open" in log and "0 undelivered" in log
    recorded = [p for p in (tmp_path / "rec").glob("*.b64") if not p.name.endswith(".response.b64")]
    assert len(recorded) == len(lines)
    turns = [p for p in recorded if p.name.endswith("-turn.b64")]
    assert len(turns) == len(lines) - 6
    for turn in turns:
        assert main(["show", str(turn)]) == 0, turn.name
        assert "executionStarted" in capsys.readouterr().out
    kinds = show_every_recorded_file(tmp_path / "rec", capsys)
    assert kinds == {
        "orchestratorRequest": len(turns),
        "orchestratorResponse": len(turns),
        "activityRequest": 6,
        "activityResponse": 6,
    }
