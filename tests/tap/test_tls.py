"""The tap reaching a sidecar over TLS, adding a header it must send and never print."""

from __future__ import annotations

import shutil
import subprocess
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from durabletask import client as dt_client
from durabletask.internal import orchestrator_service_pb2_grpc as sdk_stubs
from durabletask.testing import InMemoryOrchestrationBackend

from .scenario import sdk_worker, wait_done
from .support import QUIET, TapProcess, free_port

SECRET = "Bearer tap-secret-41d9"

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
        self.stream_metadata.append(dict(context.invocation_metadata()))
        yield from super().GetWorkItems(request, context)


def test_the_tap_speaks_tls_to_the_sidecar_with_its_header(tmp_path: Path) -> None:
    key, cert = _certificate(tmp_path)
    port = free_port()
    backend = TlsSidecar(port, key, cert)
    backend.start()
    tap = worker = client = None
    try:
        tap = TapProcess(
            free_port(),
            port,
            "--tls",
            "--ca",
            str(tmp_path / "cert.pem"),
            "--header",
            f"Authorization={SECRET}",
            log=tmp_path / "tap.log",
        )
        worker = sdk_worker(tap.address, QUIET)
        worker.start()
        client = dt_client.TaskHubGrpcClient(host_address=tap.address, logger=QUIET)
        client.schedule_new_orchestration("chain", input=["tls"], instance_id="over-tls")
        state = wait_done(client, "over-tls")
        assert (state.runtime_status.name, state.serialized_output) == (
            "COMPLETED",
            '["hello tls"]',
        )
        assert tap.terminate() == 0
        assert backend.stream_metadata and backend.stream_metadata[0]["authorization"] == SECRET
        output = tap.output()
        assert "over TLS" in output and "(headers: authorization)" in output
        assert SECRET not in output and "tap-secret" not in output
    finally:
        if client is not None:
            client.close()
        if worker is not None:
            worker.stop()
        if tap is not None:
            tap.stop()
        backend.stop(grace=0)
