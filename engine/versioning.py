"""The worker's ``VersioningOptions`` applied to an orchestration, as the SDK's worker does.

A worker at version V with a match strategy compares each orchestration's version (from its
``executionStarted`` event) with V before running any code: ``NONE`` runs everything,
``STRICT`` only V, ``CURRENT_OR_OLDER`` V and older ones. On a mismatch the failure strategy
decides: ``FAIL`` completes the orchestration as failed (``VersionMismatch``, not retriable),
``REJECT`` gives the work item back unanswered. Versions compare as PEP 440 versions when both
parse, else as text. New sub-orchestrations get the options' ``default_version`` when the code
names none.
"""

from __future__ import annotations

from typing import Any

from engine.failure_details import FailureDetails

MISMATCH = "VersionMismatch"


class VersionRejected(Exception):
    """The orchestration's version does not meet the worker's options.

    Attributes:
        failure_details: The failure the orchestration completes with (strategy ``FAIL``).
        mode: ``fail`` (the orchestration fails with :attr:`details`), ``reject`` (the work
            item is given back unanswered) or ``stop`` (no failure strategy: the SDK's worker
            stops the turn where it is and answers with what it has).
    """

    def __init__(self, details: FailureDetails, mode: str) -> None:
        super().__init__(details.message)
        self.failure_details = details
        self.mode = mode


def compare_versions(source: str | None, worker: str | None) -> int:
    """-1, 0 or 1 as ``source`` is older than, equal to or newer than ``worker``."""
    if not source and not worker:
        return 0
    if not source:
        return -1
    if not worker:
        return 1
    try:
        from packaging.version import InvalidVersion, parse
    except ImportError:  # pragma: no cover - packaging comes with the SDK
        return (source > worker) - (source < worker)
    try:
        a, b = parse(source), parse(worker)
    except InvalidVersion:
        return (source > worker) - (source < worker)
    return (a > b) - (a < b)


def check(versioning: Any, version: str | None) -> VersionRejected | None:
    """The mismatch of an orchestration at ``version`` under ``versioning``, or None."""
    if versioning is None:
        return None
    from durabletask.worker import VersionFailureStrategy, VersionMatchStrategy

    strategy = versioning.match_strategy
    comparison = compare_versions(version, versioning.version)
    if strategy == VersionMatchStrategy.NONE:
        return None
    if strategy == VersionMatchStrategy.STRICT:
        if comparison == 0:
            return None
        message = (
            f"The orchestration version '{version}' does not match the worker version "
            f"'{versioning.version}'."
        )
    elif strategy == VersionMatchStrategy.CURRENT_OR_OLDER:
        if comparison <= 0:
            return None
        message = (
            f"The orchestration version '{version}' is greater than the worker version "
            f"'{versioning.version}'."
        )
    else:
        message = f"The version match strategy '{strategy}' is unknown."
    details = FailureDetails(error_type=MISMATCH, message=message, non_retriable=True)
    mode = {VersionFailureStrategy.FAIL: "fail", VersionFailureStrategy.REJECT: "reject"}
    return VersionRejected(details, mode.get(versioning.failure_strategy, "stop"))


def default_version(versioning: Any) -> str | None:
    """The version new sub-orchestrations get when the code names none."""
    return None if versioning is None else versioning.default_version
