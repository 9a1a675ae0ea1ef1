"""The code passes the project's lint rules (pyproject.toml, [tool.ruff.lint]): pyflakes' unused
and undefined names, pycodestyle, bugbear's likely bugs. An undefined name in a branch the tests
happen not to reach is a crash a buyer finds first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_in_the_bots_code():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                             "handlers", "core", "storage", "runtime", "bot.py"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_no_type_errors_in_the_bots_code():
    result = subprocess.run([sys.executable, "-m", "mypy", "handlers", "core", "storage", "runtime"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
