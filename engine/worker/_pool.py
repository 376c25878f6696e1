"""User processes and the bounded pools that hand work items to them.

A :class:`UserProcess` is one child running :func:`engine.worker._child.child_main`: it loads
the APP once and serves many work items, one at a time. The worker watches each item with a
timeout; past it, the child is asked for its stack (``SIGUSR1``, answered by
:mod:`faulthandler`) and then killed, because a Python thread stuck in user code cannot be
stopped any other way. A child that dies is replaced before its slot takes more work.

A :class:`Pool` owns a fixed number of slots (one thread and at most one user process each),
started lazily, so a pool is as wide as its limit but only as many processes exist as the load
needed. Work goes to the most recently idle slot, or to the slot that last served the same
instance when that one is idle, so module-level state in user code behaves as it would in one
process under light load.
"""

from __future__ import annotations

import linecache
import multiprocessing
import os
import re
import select
import signal
import sysconfig
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.worker._child import EXIT, child_main, decode_answer, encode_job
from engine.worker._errors import WorkerError

OUTPUT_LINES = 20
"""How many lines of a user process's output are kept for crash reports."""

READY_TIMEOUT = 60.0
"""Seconds a new user process may take to import the APP."""

_STACK_LINE = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+) in (?P<func>.+?)\s*$')


@dataclass
class Job:
    """One work item on its way to a user process."""

    kind: str
    """``turn`` or ``activity``."""
    data: bytes
    """The serialized ``OrchestratorRequest`` or ``ActivityRequest``."""
    token: str
    """The work item's completion token."""
    instance_id: str
    """The orchestration instance."""
    name: str
    """The orchestrator or activity name."""
    request: Any = None
    """The request message (activities: to build failure answers)."""
    number: int = 0
    """Sequence number of the work item in this worker (for logs and capture files)."""
    received: float = field(default_factory=time.monotonic)
    """When it arrived (monotonic seconds)."""


@dataclass(frozen=True)
class JobResult:
    """What became of a job in a user process."""

    outcome: str
    """``done``, ``timeout``, ``crashed`` or ``stopped`` (killed because the worker stops)."""
    response: bytes = b""
    """The serialized response (``done`` only)."""
    summary: str = ""
    """A short result text for the log (``done`` only)."""
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


def _library_roots() -> tuple[str, ...]:
    import durabletask

    import engine

    roots = {
        str(Path(engine.__file__).resolve().parent),
        str(Path(durabletask.__file__).resolve().parent),
    }
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(str(Path(path).resolve()))
    return tuple(sorted(roots, key=len, reverse=True))


_ROOTS: tuple[str, ...] | None = None


def stuck_location(stack: str) -> str:
    """The innermost user-code frame of a :mod:`faulthandler` dump, as ``file:line in fn: src``.

    Frames in the standard library, installed packages, the SDK and this engine are skipped;
    when only those are on the stack the innermost frame is named.

    Args:
        stack: The text faulthandler wrote (most recent call first).

    Returns:
        The location, or ``"unknown location"`` when the dump holds no frame.
    """
    global _ROOTS
    if _ROOTS is None:
        _ROOTS = _library_roots()
    frames: list[tuple[str, int, str]] = []
    for line in stack.splitlines():
        match = _STACK_LINE.match(line)
        if match:
            frames.append((match["file"], int(match["line"]), match["func"]))
    if not frames:
        return "unknown location"
    chosen = frames[0]
    for frame in frames:
        path = frame[0]
        if path.startswith("<"):
            continue
        try:
            resolved = str(Path(path).resolve())
        except OSError:
            resolved = path
        if not any(resolved.startswith(root + os.sep) for root in _ROOTS):
            chosen = frame
            break
    path, lineno, func = chosen
    source = linecache.getline(path, lineno).strip()
    text = f"{path}:{lineno} in {func}"
    return f"{text}: {source}" if source else text


class UserProcess:
    """One child process running user code (see :mod:`engine.worker._child`).

    Args:
        app: The APP spec to load.
        label: A short name for logs (``turn-1``, ``activity-3``).
        report_dir: Folder for the stack-report file.
        timer_interval_seconds: ``maximum_timer_interval`` in seconds (None: no chunking).
        start_method: ``spawn`` or ``forkserver``.
        echo: Called with each line the process prints.
    """

    def __init__(
        self,
        app: str,
        label: str,
        report_dir: str,
        timer_interval_seconds: float | None,
        start_method: str,
        echo: Callable[[str, str], None] | None = None,
    ) -> None:
        if start_method == "fork":
            raise WorkerError("user processes are never forked from the worker (gRPC threads)")
        self.label = label
        self._echo = echo
        ctx: Any = multiprocessing.get_context(start_method)
        self._ctx = ctx
        fd, self._report_path = tempfile.mkstemp(
            prefix=f"{label}-", suffix=".stack", dir=report_dir
        )
        os.close(fd)
        self._conn, child_conn = self._ctx.Pipe(duplex=True)
        # One poll object for the life of the process (``Connection.poll`` builds a selector
        # on every call).
        self._poller = select.poll()
        self._poller.register(self._conn.fileno(), select.POLLIN | select.POLLHUP)
        out_read, out_write = self._ctx.Pipe(duplex=False)
        self._output: deque[str] = deque(maxlen=OUTPUT_LINES)
        self._process = ctx.Process(
            target=child_main,
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

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self._process.pid

    def alive(self) -> bool:
        """Whether the child still runs."""
        return self._process.is_alive()

    def _read_output(self) -> None:
        pending = b""
        try:
            while True:
                chunk = os.read(self._out_fd, 65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    self._line(raw)
        except OSError:
            pass
        finally:
            if pending:
                self._line(pending)
            os.close(self._out_fd)

    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
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

    def run(self, kind: str, data: bytes, token: str, timeout: float) -> JobResult:
        """Hand one job to the child and wait for its answer, at most ``timeout`` seconds."""
        started = time.monotonic()
        try:
            self._conn.send_bytes(encode_job(kind, data, token))
            if self._poller.poll(max(0.0, timeout) * 1000.0):
                response, summary = decode_answer(self._conn.recv_bytes())
                return JobResult("done", response, summary, seconds=time.monotonic() - started)
        except (EOFError, OSError, BrokenPipeError, ValueError):
            return self._ended(started)
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

    def _ended(self, started: float) -> JobResult:
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


class _Slot:
    def __init__(self, index: int) -> None:
        self.index = index
        self.inbox: deque[Job | None] = deque()
        self.wake = threading.Event()
        self.process: UserProcess | None = None
        self.job: Job | None = None
        self.thread: threading.Thread | None = None


class Pool:
    """A bounded set of user processes serving one kind of work item.

    Args:
        kind: ``turn`` or ``activity``.
        size: How many jobs run at once (and at most how many processes exist).
        spawn: Makes a new (not yet ready) user process for a slot index.
        timeout: Seconds one job may run.
        on_result: Called in the slot's thread with each job and its result.
    """

    def __init__(
        self,
        kind: str,
        size: int,
        spawn: Callable[[int], UserProcess],
        timeout: float,
        on_result: Callable[[Job, JobResult], None],
    ) -> None:
        self.kind = kind
        self.size = size
        self.timeout = timeout
        self._spawn = spawn
        self._on_result = on_result
        self._cond = threading.Condition()
        self._slots = [_Slot(i) for i in range(size)]
        self._idle: list[_Slot] = list(reversed(self._slots))
        self._pending: deque[Job] = deque()
        self._affinity: dict[str, int] = {}
        self._closing = False
        self._busy = 0
        self._warm_thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the slot threads and the first user process (proves that the APP loads)."""
        first = self._spawn(0)
        first.wait_ready()
        self._slots[0].process = first
        for slot in self._slots:
            slot.thread = threading.Thread(
                target=self._serve, args=(slot,), name=f"{self.kind}-slot-{slot.index}", daemon=True
            )
            slot.thread.start()
        if self.size > 1:
            self._warm_thread = threading.Thread(
                target=self._warm, name=f"{self.kind}-warm", daemon=True
            )
            self._warm_thread.start()

    def _warm(self) -> None:
        """Start the other slots' processes in the background, while their slots are idle."""
        for slot in self._slots[1:]:
            with self._cond:
                if self._closing or slot not in self._idle or slot.process is not None:
                    continue
                self._idle.remove(slot)
            try:
                process = self._spawn(slot.index)
                process.wait_ready()
                slot.process = process
            except WorkerError:
                pass
            finally:
                with self._cond:
                    job = None
                    if self._pending and not self._closing:
                        job = self._pending.popleft()
                        slot.job = job
                    else:
                        self._idle.insert(0, slot)
                    self._cond.notify_all()
                if job is not None:
                    slot.inbox.append(job)
                    slot.wake.set()

    # --- submitting ---------------------------------------------------------------------

    def submit(self, job: Job, *, should_wait: Callable[[], bool] = lambda: True) -> bool:
        """Queue a job; block while the queue is full (back-pressure on the stream).

        Returns:
            False when the pool is closing (the job was not taken).
        """
        with self._cond:
            while len(self._pending) >= self.size and not self._closing and should_wait():
                self._cond.wait(0.25)
            if self._closing:
                return False
            slot = self._choose(job.instance_id)
            self._busy += 1
            if slot is None:
                self._pending.append(job)
                return True
            slot.job = job
        slot.inbox.append(job)
        slot.wake.set()
        return True

    def _choose(self, key: str) -> _Slot | None:
        if not self._idle:
            return None
        preferred = self._affinity.get(key)
        if preferred is not None:
            for position, slot in enumerate(self._idle):
                if slot.index == preferred:
                    return self._idle.pop(position)
        return self._idle.pop()

    # --- serving ------------------------------------------------------------------------

    def _serve(self, slot: _Slot) -> None:
        while True:
            slot.wake.wait()
            slot.wake.clear()
            while slot.inbox:
                job = slot.inbox.popleft()
                if job is None:
                    return
                while job is not None:
                    self._run(slot, job)
                    job = self._next(slot)

    def _next(self, slot: _Slot) -> Job | None:
        with self._cond:
            self._busy -= 1
            if self._pending and not self._closing:
                job = self._pending.popleft()
                slot.job = job
                self._cond.notify_all()
                return job
            slot.job = None
            self._idle.append(slot)
            self._cond.notify_all()
            return None

    def _run(self, slot: _Slot, job: Job) -> None:
        process = slot.process
        if process is None or not process.alive():
            if process is not None:
                process.kill()
            try:
                process = self._spawn(slot.index)
                process.wait_ready()
            except WorkerError as exc:
                slot.process = None
                self._on_result(job, JobResult("crashed", output=str(exc)))
                return
            slot.process = process
        with self._cond:
            if len(self._affinity) > 10_000:
                self._affinity.clear()
            self._affinity[job.instance_id] = slot.index
        result = process.run(job.kind, job.data, job.token, self.timeout)
        if result.outcome != "done":
            slot.process = None
        try:
            self._on_result(job, result)
        except Exception:  # noqa: BLE001 - a reporting failure must not kill the slot
            import traceback

            traceback.print_exc()

    # --- stopping -----------------------------------------------------------------------

    def idle(self) -> bool:
        """Whether nothing is queued or running."""
        with self._cond:
            return self._busy == 0

    def take_pending(self) -> list[Job]:
        """Remove and return every queued job that has not started."""
        with self._cond:
            jobs = list(self._pending)
            self._busy -= len(jobs)
            self._pending.clear()
            self._cond.notify_all()
            return jobs

    def close(self) -> None:
        """Stop taking jobs (queued ones stay for :meth:`take_pending`)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def kill_running(self) -> None:
        """Kill the processes running jobs; those jobs report ``stopped``."""
        for slot in self._slots:
            process = slot.process
            if slot.job is not None and process is not None:
                process.stop_for_shutdown()

    def shutdown(self, timeout: float = 5.0) -> None:
        """End the slot threads and their processes."""
        self.close()
        for slot in self._slots:
            slot.inbox.append(None)
            slot.wake.set()
        deadline = time.monotonic() + timeout
        warm = self._warm_thread
        if warm is not None:
            # A process it is starting would otherwise outlive the pool.
            warm.join(max(0.0, deadline - time.monotonic()))
        for slot in self._slots:
            if slot.thread is not None:
                slot.thread.join(max(0.0, deadline - time.monotonic()))
            if slot.process is not None:
                slot.process.close()
                slot.process = None

    def processes(self) -> list[int]:
        """Process ids of the live user processes."""
        return [
            pid
            for slot in self._slots
            if slot.process is not None and (pid := slot.process.pid) is not None
        ]
