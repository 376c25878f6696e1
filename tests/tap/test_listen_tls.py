"""The tap serving TLS to its workers (``--listen-cert`` / ``--listen-key``), on both paths.

The SDK's worker, in a process of its own, connects with TLS (``secure_channel``), trusting the
test's certificate through gRPC's own ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``; the SDK's sidecar
behind the tap is plain, and the SDK's client judges the result straight from it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from durabletask import client as dt_client

from .scenario import wait_done
from .support import QUIET, ROOT, TapProcess, free_port, sidecar
from .test_tls import _certificate

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

_WORKER = """
import signal, sys, threading
from durabletask import worker
from tests.tap.scenario import ACTIVITIES, ORCHESTRATORS
w = worker.TaskHubGrpcWorker(host_address=sys.argv[1], secure_channel=True)
for fn in ORCHESTRATORS:
    w.add_orchestrator(fn)
for fn in ACTIVITIES:
    w.add_activity(fn)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
w.start()
while not done.wait(0.2):
    pass
w.stop()
"""


@pytest.mark.parametrize("extra", [[], ["--header", "x-tap=1"]], ids=["relay", "forwarder"])
def test_a_worker_reaches_the_tap_over_tls(tmp_path: Path, extra: list[str]) -> None:
    _certificate(tmp_path)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    with sidecar() as (_, port):
        tap = TapProcess(
            free_port(),
            port,
            "--listen-cert",
            str(cert),
            "--listen-key",
            str(key),
            *extra,
            log=tmp_path / "tap.log",
        )
        env = dict(os.environ, PYTHONPATH=str(ROOT), GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(cert))
        worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER, tap.address],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{port}", logger=QUIET)
        try:
            client.schedule_new_orchestration("chain", input=["tls"], instance_id="tls-in")
            state = wait_done(client, "tls-in", timeout=120)
            assert (state.runtime_status.name, state.serialized_output) == (
                "COMPLETED",
                '["hello tls"]',
            )
            worker.terminate()
            worker.wait(60)
            assert tap.terminate() == 0
            output = tap.output()
            assert f"listening on 127.0.0.1:{tap.port} with TLS" in output
            assert sum(" tls-in " in line for line in tap.lines()) == 3  # 2 turns, 1 activity
            assert "0 open" in output
        finally:
            client.close()
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
            tap.stop()
