"""The README's `./run`: its usage names every command, and installing leaves the checkout clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_usage_line_names_bot_sandbox():
    script = (ROOT / "run").read_text()
    usage = next(line for line in script.splitlines() if "usage:" in line)
    assert "./run bot sandbox" in usage and "./run tests" in usage


def test_installing_builds_nothing_from_the_checkout():
    """A build of the project (pip install -e .) leaves livecart.egg-info/ and build/ behind."""
    script = (ROOT / "run").read_text()
    assert "install --quiet -e" not in script and 'install --quiet "."' not in script
    assert '-r "$venv/requirements.txt"' in script


def test_the_requirements_run_installs_are_the_pinned_dependencies():
    """The snippet ./run feeds to Python prints pyproject's dependencies and test extras, one a line."""
    script = (ROOT / "run").read_text()
    snippet = script.split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0]
    printed = subprocess.run([sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True, check=True)
    lines = printed.stdout.split()
    assert "phonenumbers==9.0.43" in lines and any(line.startswith("pytest>=") for line in lines)
    assert any(line.startswith("python-telegram-bot[job-queue,rate-limiter]") for line in lines)


def test_run_tests_runs_a_postgresql_pass_beside_the_sqlite_one_when_a_server_answers():
    script = (ROOT / "run").read_text()
    tests = script.split("    tests)", 1)[1].split(";;", 1)[0]
    assert "-m tests.pg_databases" in tests  # finds the server (LIVECART_TEST_POSTGRES or the local socket)
    assert 'exec env -u LIVECART_TEST_POSTGRES "$venv/bin/python" -m pytest "$@"' in tests  # none: SQLite only
    assert 'LIVECART_TEST_POSTGRES="$pg" "$venv/bin/python" -m pytest "$@"' in tests
    assert 'env -u LIVECART_TEST_POSTGRES "$venv/bin/python" -m pytest "$@"' in tests.split("&\n", 1)[1]
    assert 'exit "$pgstatus"' in tests and 'if [ "$lite" -ne 0 ]; then exit "$lite"; fi' in tests


def test_no_postgresql_pass_when_no_server_answers(monkeypatch):
    from tests import pg_databases

    monkeypatch.setenv(pg_databases.SERVER_ENV, "postgresql://nobody@/postgres?host=/nonexistent-socket-dir")
    assert pg_databases.find_server() is None
