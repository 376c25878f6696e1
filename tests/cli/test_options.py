"""Options checked at the door, and turned into the engine's options with the engine's defaults.

Every bad value runs the real command line in a subprocess: exit status 2, exactly one line on
stderr naming the option, no traceback (the parser fails before anything is imported, so these
runs are quick).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine.worker import ConnectionOptions, WorkerOptions
from inspector.__main__ import build_parser
from inspector.options import connection_options, worker_options

ROOT = Path(__file__).resolve().parents[2]
REQUEST = str(ROOT / "samples" / "requests" / "activity_chain-turn1.b64")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def assert_one_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert proc.stdout == ""
    return lines[0]


SECONDS_OPTIONS = [
    ("replay", [REQUEST, "--app", "samples.orchestrations"], "--max-timer-interval"),
    ("worker", ["127.0.0.1:1", "--app", "samples.orchestrations"], "--turn-timeout"),
    ("worker", ["127.0.0.1:1", "--app", "samples.orchestrations"], "--activity-timeout"),
    ("worker", ["127.0.0.1:1", "--app", "samples.orchestrations"], "--grace"),
    ("attach", ["127.0.0.1:1"], "--turn-timeout"),
    ("attach", ["127.0.0.1:1"], "--grace"),
]
TOO_LONG = str(threading.TIMEOUT_MAX * 10)
BAD_SECONDS = ["nan", "inf", "-inf", "0", "-5", TOO_LONG, "soon"]


@pytest.mark.parametrize("value", BAD_SECONDS)
@pytest.mark.parametrize(
    ("command", "rest", "option"), SECONDS_OPTIONS, ids=[f"{c}{o}" for c, _, o in SECONDS_OPTIONS]
)
def test_every_seconds_option_rejects_bad_values(
    command: str, rest: list[str], option: str, value: str
) -> None:
    line = assert_one_line(run_cli(command, *rest, f"{option}={value}"), option)
    assert line.startswith(f"inspector {command}: ")
    assert value in line or "too long" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["worker", "127.0.0.1:1", "--app", "x", "--max-timeouts", "0"],
        ["worker", "127.0.0.1:1", "--app", "x", "--max-activities", "two"],
        ["worker", "no-port", "--app", "x"],
        ["attach", "127.0.0.1:1", "--header", "novalue"],
        ["replay", REQUEST],
        ["bogus"],
        [],
    ],
)
def test_usage_errors_are_one_line(argv: list[str]) -> None:
    line = assert_one_line(run_cli(*argv))
    assert line.startswith("inspector")
    assert "--help" in line


def test_a_timer_interval_is_at_least_a_microsecond() -> None:
    # timedelta(seconds=1e-9) is zero, which would silently mean "never split timers".
    line = assert_one_line(
        run_cli("replay", REQUEST, "--app", "samples.orchestrations", "--max-timer-interval=1e-9")
    )
    assert "--max-timer-interval" in line and "microsecond" in line


def test_good_seconds_are_accepted_as_given() -> None:
    args = build_parser().parse_args(
        ["worker", "h:1", "--app", "a", "--turn-timeout", "0.25", "--grace", "1e3"]
    )
    options = worker_options(args)
    assert options.turn_timeout == 0.25 and options.grace == 1000.0
    args = build_parser().parse_args(["replay", "r", "--app", "a", "--max-timer-interval", "60"])
    assert args.max_timer_interval == 60.0


def test_unset_options_are_the_engines_defaults() -> None:
    args = build_parser().parse_args(["worker", "h:1", "--app", "a.py"])
    assert worker_options(args) == WorkerOptions(app="a.py")
    assert connection_options(args) == ConnectionOptions("h:1")
    args = build_parser().parse_args(["attach", "h:1"])
    assert connection_options(args) == ConnectionOptions("h:1")
    assert worker_options(args, "b.py") == WorkerOptions(app="b.py")


def test_every_option_reaches_the_engine() -> None:
    args = build_parser().parse_args(
        [
            "worker",
            "h:1",
            "--app",
            "a.py",
            "--tls",
            "--ca",
            "ca.pem",
            "--header",
            "K=v",
            "--header",
            "x-two=2",
            "--turn-timeout",
            "1",
            "--activity-timeout",
            "2",
            "--max-timeouts",
            "4",
            "--grace",
            "5",
            "--max-orchestrations",
            "6",
            "--max-activities",
            "7",
            "--record",
            "dir",
        ]
    )
    assert connection_options(args) == ConnectionOptions(
        "h:1", tls=True, ca_file="ca.pem", headers=(("k", "v"), ("x-two", "2"))
    )
    assert worker_options(args) == WorkerOptions(
        app="a.py",
        turn_timeout=1.0,
        activity_timeout=2.0,
        max_timeouts=4,
        grace=5.0,
        max_orchestrations=6,
        max_activities=7,
        record_dir="dir",
    )


def test_help_shows_the_engines_defaults() -> None:
    defaults = WorkerOptions(app="x")
    proc = run_cli("worker", "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert f"runs longer (default {defaults.turn_timeout:g})" in text
    assert f"(default {defaults.activity_timeout:g})" in text
    assert f"timed-out turns (default {defaults.max_timeouts})" in text
    assert f"abandoning it (default {defaults.grace:g})" in text
    assert f"served at once (default {defaults.max_orchestrations})" in text
    proc = run_cli("replay", "--help")
    assert "(default 259200 = 3 days)" in " ".join(proc.stdout.split())


def test_help_imports_nothing_of_the_engine() -> None:
    code = (
        "import json, sys\n"
        "from inspector.__main__ import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('engine', 'google', 'grpc', 'textual', 'durabletask'))\n"
        "print(json.dumps(heavy), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert "COMMAND" in proc.stdout
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []
