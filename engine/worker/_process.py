"""One user process: a child that loads the APP once and serves many work items.

A :class:`UserProcess` runs :func:`engine.worker._child.child_main` (through
:func:`engine.user_process.run_user_process`, which imports the APP first). The worker watches each
item with a timeout; past it, the child is asked for its stack (``SIGUSR1``, answered by
:mod:`faulthandler`) and then killed, because a Python thread stuck in user code cannot be
stopped any other way. What became of the item is a :class:`JobResult`.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.channel import LONGEST_WAIT
from engine.user_process import run_user_process
from engine.worker._child import EXIT, decode_answer, encode_job
from engine.worker._errors import WorkerError
from engine.worker._stack import stuck_location

OUTPUT_LINES = 20
"""How many lines of a user process's output are kept for crash reports."""

LINE_LIMIT = 4096
"""Bytes of one output line that are kept; the rest is counted (``... N bytes cut``)."""

READY_TIMEOUT = 60.0
"""Seconds a new user process may take to import the APP."""


@dataclass(frozen=True)
class JobResult:
    """What became of a job in a user process."""

    outcome: str
    """``done``, ``timeout``, ``crashed``, ``stopped`` (killed because the worker stops) or
    ``rejected`` (the app's versioning gives the work item back; ``summary`` says why)."""
    response: bytes = b""
    """The serialized response (``done`` only)."""
    summary: str = ""
    """A short result text for the log (``done`` only)."""
    failed: bool = False
    """Whether the response reports a failure (``done`` only)."""
    location: str = ""
    """Where user code was stuck (``timeout``): ``file:line in function: source``."""
    stack: str = ""
    """The stack dump of the stuck process (``timeout``)."""
    output: str = ""
    """The last lines the process printed (``crashed``)."""
    exitcode: int | None = None
    """How the process ended (``crashed``)."""
    seconds: float = 0.0
    """How long the job ran."""
    needs: frozenset[int] = frozenset()
    """The task ids a ``when_all`` the turn's code waits on still needs (``done`` turns)."""


class LineReader:
    """Splits a byte stream into lines in linear time, each kept to :data:`LINE_LIMIT` bytes.

    Args:
        emit: Called with each line (decoded, ``\\r`` stripped, ``... N bytes cut`` added
            when it was longer than the limit).
        limit: Bytes kept of each line.
    """

    def __init__(self, emit: Callable[[str], None], limit: int = LINE_LIMIT) -> None:
        self._emit = emit
        self._limit = limit
        self._kept = bytearray()
        self._cut = 0

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the stream."""
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                self._take(chunk, start, len(chunk))
                return
            self._take(chunk, start, end)
            self._flush()
            start = end + 1

    def close(self) -> None:
        """The stream ended: emit what is left of an unfinished line."""
        if self._kept or self._cut:
            self._flush()

    def _take(self, chunk: bytes, start: int, end: int) -> None:
        room = max(0, self._limit - len(self._kept))
        keep = min(room, end - start)
        self._kept += chunk[start : start + keep]
        self._cut += end - start - keep

    def _flush(self) -> None:
        text = self._kept.decode("utf-8", "replace").rstrip("\r")
        if self._cut:
            text += f" ... {self._cut} bytes cut"
        self._kept = bytearray()
        self._cut = 0
        self._emit(text)


class UserProcess:
    """One child process running user code (see :mod:`engine.worker._child`).

    Args:
        app: The APP spec to load.
        label: A short name for logs (``turn-1``, ``activity-3``).
        report_dir: Folder for the stack-report file.
        timer_interval_seconds: ``maximum_timer_interval`` in seconds (None: no chunking;
            ``"app"``: the app's own).
        start_method: ``spawn`` or ``forkserver``.
        echo: Called with each line the process prints.
    """

    def __init__(
        self,
        app: str,
        label: str,
        report_dir: str,
        timer_interval_seconds: float | str | None,
        start_method: str,
        echo: Callable[[str, str], None] | None = None,
    ) -> None:
        if start_method == "fork":
            raise WorkerError("user processes are never forked from the worker (gRPC threads)")
        self.label = label
        self.capabilities: tuple[int, ...] = ()
        """What the loaded APP's worker advertises (known once :meth:`wait_ready` returns)."""
        self.limits: dict[str, int] = {}
        """The APP's worker's concurrency limits by job kind (known once ready)."""
        self._echo = echo
        ctx: Any = multiprocessing.get_context(start_method)
        self._ctx = ctx
        fd, self._report_path = tempfile.mkstemp(
            prefix=f"{label}-", suffix=".stack", dir=report_dir
        )
        os.close(fd)
        self._conn, child_conn = self._ctx.Pipe(duplex=True)
        self._fd = self._conn.fileno()
        # One poll object for the life of the process (``Connection.poll`` builds a selector
        # on every call).
        self._poller = select.poll()
        self._poller.register(self._conn.fileno(), select.POLLIN | select.POLLHUP)
        out_read, out_write = self._ctx.Pipe(duplex=False)
        self._output: deque[str] = deque(maxlen=OUTPUT_LINES)
        self._process = ctx.Process(
            target=run_user_process,
            args=(app, child_conn, out_write, self._report_path, timer_interval_seconds),
            name=f"inspector-{label}",
            daemon=True,
        )
        self._process.start()
        child_conn.close()
        out_write.close()
        self._out_fd = os.dup(out_read.fileno())
        out_read.close()
        self._pump = threading.Thread(target=self._read_output, name=f"{label}-output", daemon=True)
        self._pump.start()
        self._stopping = False

    entities: tuple[str, ...] = ()
    """The APP's entity names, as the child reported them once ready."""

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self._process.pid

    def alive(self) -> bool:
        """Whether the child still runs."""
        return self._process.is_alive()

    def _read_output(self) -> None:
        lines = LineReader(self._line)
        try:
            while True:
                chunk = os.read(self._out_fd, 65536)
                if not chunk:
                    break
                lines.feed(chunk)
        except OSError:
            pass
        finally:
            lines.close()
            os.close(self._out_fd)

    def _line(self, text: str) -> None:
        self._output.append(text)
        if self._echo is not None:
            self._echo(self.label, text)

    def last_output(self) -> str:
        """The last lines the process printed (after it ended, everything it printed)."""
        self._pump.join(timeout=1.0)
        return "\n".join(self._output)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Block until the APP is loaded in the child.

        Raises:
            WorkerError: the APP failed to load, or the child died or took too long.
        """
        if not self._conn.poll(timeout):
            self.kill()
            raise WorkerError(f"the user process did not load the APP within {timeout:.0f}s")
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            self._process.join(2.0)
            output = self.last_output()
            detail = f": {output.splitlines()[-1]}" if output.strip() else ""
            raise WorkerError(
                f"the user process exited ({self._process.exitcode}) while loading the APP{detail}"
            ) from None
        if message[0] != "ready":
            self.close()
            raise WorkerError(str(message[1]))
        self.entities = tuple(message[2]) if len(message) > 2 else ()
        self.capabilities = tuple(message[3]) if len(message) > 3 else ()
        self.limits = dict(message[4]) if len(message) > 4 else {}

    def run(self, kind: str, data: bytes, token: str, timeout: float) -> JobResult:
        """Hand one job to the child and wait for its answer, at most ``timeout`` seconds."""
        started = time.monotonic()
        try:
            self.send(kind, data, token)
            if self._poller.poll(min(max(0.0, timeout), LONGEST_WAIT) * 1000.0):
                return self.answer(started)
        except (EOFError, OSError, ValueError):
            return self.ended(started)
        return self.expire(started)

    def send(self, kind: str, data: bytes, token: str) -> None:
        """Hand one job to the child without waiting (its answer: :meth:`answer`).

        Raises:
            OSError: the child is gone (a broken pipe); its result is :meth:`ended`.
        """
        self._conn.send_bytes(encode_job(kind, data, token))

    def fileno(self) -> int:
        """The pipe the child answers on (readable once an answer, or its end, is there);
        -1 once the process was killed or closed."""
        return -1 if self._conn.closed else self._fd

    def answer(self, started: float) -> JobResult:
        """Read the answer to the job sent at ``started`` (the pipe is readable).

        Raises:
            EOFError, OSError: the child ended instead of answering (see :meth:`ended`).
        """
        response, summary, failed, rejected, needs = decode_answer(self._conn.recv_bytes())
        seconds = time.monotonic() - started
        if rejected:
            return JobResult("rejected", summary=summary, seconds=seconds)
        return JobResult("done", response, summary, failed, seconds=seconds, needs=needs)

    def expire(self, started: float) -> JobResult:
        """The job sent at ``started`` ran past its timeout: name where, and kill the child."""
        if self._stopping:
            self.kill()
            return JobResult("stopped", seconds=time.monotonic() - started)
        stack = self._dump_stack()
        self.kill()
        return JobResult(
            "timeout",
            location=stuck_location(stack),
            stack=stack,
            seconds=time.monotonic() - started,
        )

    def ended(self, started: float) -> JobResult:
        """The child ended while running the job sent at ``started``: crashed, or stopped."""
        self._process.join(2.0)
        if self._stopping:
            return JobResult("stopped", seconds=time.monotonic() - started)
        return JobResult(
            "crashed",
            output=self.last_output(),
            exitcode=self._process.exitcode,
            seconds=time.monotonic() - started,
        )

    def _dump_stack(self) -> str:
        pid = self._process.pid
        if pid is None or not self._process.is_alive():
            return ""
        try:
            os.kill(pid, signal.SIGUSR1)
        except OSError:
            return ""
        deadline = time.monotonic() + 1.0
        text = ""
        while time.monotonic() < deadline:
            time.sleep(0.02)
            try:
                text = Path(self._report_path).read_text(errors="replace")
            except OSError:
                break
            if "File " in text:
                time.sleep(0.02)
                return Path(self._report_path).read_text(errors="replace")
        return text

    def stop_for_shutdown(self) -> None:
        """Kill the child because the worker stops; a job it runs reports ``stopped``."""
        self._stopping = True
        self.kill()

    def kill(self) -> None:
        """Kill the child at once (it may be stuck in user code) and reap it."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5.0)
        self._cleanup()

    def close(self) -> None:
        """Ask the child to exit, and kill it if it does not."""
        try:
            self._conn.send_bytes(EXIT)
        except (OSError, BrokenPipeError, ValueError):
            pass
        self._process.join(1.0)
        self.kill()

    def _cleanup(self) -> None:
        try:
            self._conn.close()
        except OSError:
            pass
        try:
            os.unlink(self._report_path)
        except OSError:
            pass
