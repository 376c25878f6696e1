"""The worker on a real sidecar over TLS, with a metadata header it must send and never print."""

from __future__ import annotations

import shutil
import subprocess
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import FIXTURE_APP, WorkerProcess, free_port
from durabletask.internal import orchestrator_service_pb2_grpc as sdk_stubs
from durabletask.testing import InMemoryOrchestrationBackend

from engine.proto import orchestrator_service_pb2 as pb
from engine.sidecar import SidecarStub

SECRET = "Bearer not-for-the-log-7f3a"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _certificate(folder: Path) -> tuple[bytes, bytes]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key.read_bytes(), cert.read_bytes()


class TlsSidecar(InMemoryOrchestrationBackend):
    """The SDK's in-memory sidecar served over TLS, noting the metadata of each stream."""

    def __init__(self, port: int, key: bytes, cert: bytes) -> None:
        super().__init__(port=port)
        self._key, self._cert = key, cert
        self.stream_metadata: list[dict[str, str]] = []

    def start(self) -> str:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
        self._server = server
        sdk_stubs.add_TaskHubSidecarServiceServicer_to_server(self, server)
        credentials = grpc.ssl_server_credentials([(self._key, self._cert)])
        server.add_secure_port(f"127.0.0.1:{self._port}", credentials)
        server.start()
        return f"127.0.0.1:{self._port}"

    def GetWorkItems(self, request: Any, context: Any) -> Any:  # noqa: N802 - the RPC's name
        self.stream_metadata.append({k: v for k, v in context.invocation_metadata()})
        yield from super().GetWorkItems(request, context)


def test_worker_serves_over_tls_with_headers(tmp_path: Path) -> None:
    key, cert = _certificate(tmp_path)
    (tmp_path / "ca.pem").write_bytes(cert)
    port = free_port()
    sidecar = TlsSidecar(port, key, cert)
    sidecar.start()
    address = f"127.0.0.1:{port}"
    channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=cert))
    worker = WorkerProcess(
        address,
        FIXTURE_APP,
        "--tls",
        "--ca",
        str(tmp_path / "ca.pem"),
        "--header",
        f"authorization={SECRET}",
        log=tmp_path / "worker.log",
    )
    try:
        worker.wait_for("connected")
        stub = SidecarStub(channel)
        stub.start_instance(
            pb.CreateInstanceRequest(instanceId="tls-1", name="fan_naps", input={"value": "2"})
        )
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline:
            state = stub.get_instance(
                pb.GetInstanceRequest(instanceId="tls-1", getInputsAndOutputs=True)
            ).orchestrationState
            if state.orchestrationStatus == pb.ORCHESTRATION_STATUS_COMPLETED:
                break
            time.sleep(0.1)
        assert state is not None
        assert state.orchestrationStatus == pb.ORCHESTRATION_STATUS_COMPLETED
        assert state.output.value == "2"  # naps return 0 and 1; async_double doubles the sum
        assert sidecar.stream_metadata[0]["authorization"] == SECRET
        assert worker.terminate() == 0
        log = worker.output()
        assert "authorization" in log and SECRET not in log
    finally:
        worker.stop()
        channel.close()
        sidecar.stop(grace=0)


def test_worker_without_the_ca_cannot_connect_and_says_so(tmp_path: Path) -> None:
    key, cert = _certificate(tmp_path)
    port = free_port()
    sidecar = TlsSidecar(port, key, cert)
    sidecar.start()
    worker = WorkerProcess(f"127.0.0.1:{port}", FIXTURE_APP, "--tls", log=tmp_path / "w.log")
    try:
        worker.wait_for("failed", timeout=30)
        assert "connected to" not in worker.output()
        assert "Traceback" not in worker.output()
    finally:
        worker.stop()
        sidecar.stop(grace=0)
