"""Orchestrator completions held by the tap before they are forwarded, until a verdict.

The forwarding thread that carries a held ``CompleteOrchestratorTask`` waits in
:meth:`HeldCompletions.wait` (the worker's call stays open meanwhile); :meth:`settle` gives
the verdict (forward it, or abandon the work item instead) from any thread and, once the
forwarding thread has made the call to the sidecar, returns.
"""

from __future__ import annotations

import threading


class _Held:
    def __init__(self) -> None:
        self.decided = threading.Event()
        self.forwarded = threading.Event()
        self.release = True


class HeldCompletions:
    """The held completions, by completion token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, _Held] = {}

    def tokens(self) -> list[str]:
        """The completion tokens held right now, oldest first."""
        with self._lock:
            return list(self._held)

    def hold(self, token: str) -> None:
        """Hold the completion of ``token`` (the forwarding thread calls :meth:`wait` next)."""
        with self._lock:
            self._held[token] = _Held()

    def wait(self, token: str) -> bool:
        """Block until a verdict on ``token``; whether to forward it (else abandon it)."""
        with self._lock:
            held = self._held[token]
        held.decided.wait()
        return held.release

    def forwarded(self, token: str) -> None:
        """The forwarding thread made the call the verdict asked for."""
        with self._lock:
            held = self._held.pop(token, None)
        if held is not None:
            held.forwarded.set()

    def settle(self, token: str, release: bool, timeout: float = 60.0) -> bool:
        """Forward (``release``) or abandon the completion held for ``token``.

        Returns:
            Whether it was held (False: unknown token, or settled already). Returns once
            the call to the sidecar has been made, or after ``timeout``.
        """
        with self._lock:
            held = self._held.get(token)
            if held is None or held.decided.is_set():
                return False
            held.release = release
            held.decided.set()
        held.forwarded.wait(timeout)
        return True

    def settle_all(self, release: bool, timeout: float = 60.0) -> int:
        """Settle every completion held; how many there were."""
        tokens = self.tokens()
        return sum(self.settle(token, release, timeout) for token in tokens)
