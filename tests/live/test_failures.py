"""A failed call says why, in words a user can act on: each cause made real here.

Name resolution (a ``.invalid`` host, which never resolves), a refused port, TLS spoken to a
plaintext sidecar (the SDK's in-memory one), and a sidecar that answers UNAUTHENTICATED: no
sidecar here checks credentials, so a stand-in gRPC server that refuses every call plays it.
"""

from __future__ import annotations

from concurrent import futures
from typing import Any

import grpc
import pytest

from engine.channel import describe_failure
from engine.live import LiveClient
from engine.sidecar import SERVICE_NAME
from tests.live.conftest import free_port


def _failure(address: str, tls: bool = False) -> str:
    client = LiveClient(address, tls=tls, timeout=20)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            client.hello()
        return describe_failure(caught.value, "Hello")
    finally:
        client.close()


def test_name_resolution_refused_and_tls(sidecar: Any) -> None:
    assert _failure("no-such-sidecar.invalid:4001") == "name resolution failed"
    assert _failure(f"127.0.0.1:{free_port()}") == "connection refused"
    assert _failure(sidecar[1], tls=True) == "TLS failure"


def test_unauthenticated_and_unimplemented() -> None:
    def refuse(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing api key")

    handler = grpc.unary_unary_rpc_method_handler(refuse)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE_NAME, {"Hello": handler}),)
    )
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        assert _failure(f"127.0.0.1:{port}") == "unauthenticated (check --header)"
        client = LiveClient(f"127.0.0.1:{port}", timeout=20)
        try:
            with pytest.raises(grpc.RpcError) as caught:
                client.query_instances()
            why = describe_failure(caught.value, "QueryInstances")
            assert why == "this sidecar does not implement QueryInstances"
        finally:
            client.close()
    finally:
        server.stop(grace=0)
