"""The app worker's payload store: tokens resolved in, large payloads stored out, and the
large-payloads capability advertised, side by side with the SDK's worker."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from appopts_support import (
    QUIET,
    WorkerProcess,
    drive,
    free_port,
    keep_sys_path,  # noqa: F401 - autouse: restores sys.path after each test
)

from samples import payload_worker
from samples.record import RecordingBackend

APP = "samples.payload_worker:worker"
TEXT = "x" * 20_000
STARTS: dict[str, tuple[str, Any]] = {"big-1": ("big", TEXT)}
LARGE_PAYLOADS = 3


class CapabilityBackend(RecordingBackend):
    """The recording sidecar, keeping the capabilities every ``GetWorkItems`` asked with."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.capabilities: list[list[int]] = []
        self._lock = threading.Lock()

    def GetWorkItems(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        with self._lock:
            self.capabilities.append(list(request.capabilities))
        yield from super().GetWorkItems(request, context)


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "store"
    monkeypatch.setenv("PAYLOAD_STORE_DIR", str(folder))
    return folder


def _run(start: Any, store: Any) -> tuple[dict[str, Any], CapabilityBackend]:
    port = free_port()
    backend = CapabilityBackend(port)
    backend.start()
    stop = start(port)
    try:
        return drive(port, STARTS, payload_store=store), backend
    finally:
        stop()
        backend.stop(grace=0)


def _sdk(port: int) -> Any:
    w = payload_worker.build_worker(f"127.0.0.1:{port}")
    w._logger = QUIET
    w.start()
    return w.stop


def _tokens_in(backend: RecordingBackend) -> int:
    prefix = payload_worker.PREFIX.encode()
    return sum(turn.response.count(prefix) for turn in backend.turns)


def test_large_payloads_end_as_under_the_sdk_worker(store_dir: Path, tmp_path: Path) -> None:
    store = payload_worker.FolderStore(str(store_dir))
    theirs, sdk_backend = _run(_sdk, store)
    assert theirs["big-1"] == ("COMPLETED", '{"input": 20000, "result": 40000}', None, None)

    def ours_start(port: int) -> Any:
        env_ok = os.environ["PAYLOAD_STORE_DIR"] == str(store_dir)
        assert env_ok
        return WorkerProcess(f"127.0.0.1:{port}", APP, log=tmp_path / "w.log").stop

    ours, our_backend = _run(ours_start, store)
    assert ours == theirs
    # the payloads really went through the store, on both sides, and both asked for them
    assert _tokens_in(sdk_backend) >= 1 and _tokens_in(our_backend) >= 1
    assert sdk_backend.capabilities and our_backend.capabilities
    assert all(LARGE_PAYLOADS in c for c in sdk_backend.capabilities + our_backend.capabilities)


def test_a_plain_app_asks_for_no_capability(tmp_path: Path) -> None:
    port = free_port()
    backend = CapabilityBackend(port)
    backend.start()
    worker = WorkerProcess(f"127.0.0.1:{port}", "samples.payload_worker", log=tmp_path / "w.log")
    try:
        drive(port, {"small": ("big", "tiny")})
    finally:
        worker.stop()
        backend.stop(grace=0)
    assert backend.capabilities and all(c == [] for c in backend.capabilities)


def test_replay_resolves_the_tokens_of_a_recorded_turn(store_dir: Path, tmp_path: Path) -> None:
    """A recorded turn holds the store's tokens; ``replay --app ...:worker`` reads them through
    the app's store and gives the SDK's response, while the plain app cannot."""
    import base64

    from appopts_support import run_cli
    from replay_compare import normalized, parse_response

    store = payload_worker.FolderStore(str(store_dir))
    _, backend = _run(_sdk, store)
    prefix = payload_worker.PREFIX.encode()
    turns = [t for t in backend.turns if prefix in t.request]
    assert turns
    for n, turn in enumerate(turns):
        path = tmp_path / f"turn-{n}.b64"
        path.write_bytes(base64.b64encode(turn.request))
        done = run_cli("replay", str(path), "--app", APP)
        assert done.returncode == 0, done.stderr
        ours = parse_response(base64.b64decode(done.stdout))
        # the SDK's worker stored the large payloads of its response; ours are inline
        theirs = parse_response(turn.response)
        for sv_ours, sv_theirs in zip(_values(ours), _values(theirs), strict=True):
            if sv_theirs.startswith(payload_worker.PREFIX):
                sv_theirs = store.download(sv_theirs).decode()
            assert sv_ours == sv_theirs
        assert normalized(ours).keys() == normalized(theirs).keys()
        plain = run_cli("replay", str(path), "--app", "samples.payload_worker")
        assert plain.stdout != done.stdout


def _values(msg: Any) -> list[str]:
    from engine.payloads import string_values

    return [sv.value for sv in string_values(msg)]
