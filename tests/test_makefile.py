"""`make test` runs the import-layer check, the library tests and the notebooks even when an
earlier part fails, names what failed, and exits non-zero if any part did (pytest and
lint-imports are replaced by stubs here)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

STUB = """import sys
with open(sys.argv[1], "a") as f:
    f.write(" ".join(sys.argv[2:]) + "\\n")
target = sys.argv[-1]
sys.exit(1 if target in sys.argv[2].split(",") else 0)
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("failing, code", [("", 0), ("tests", 2), ("notebooks", 2), ("tests,notebooks", 2),
                                           ("lint", 2)])
def test_make_test_runs_both_parts_and_reports(tmp_path, failing, code):
    stub, calls = tmp_path / "stub.py", tmp_path / "calls.txt"
    stub.write_text(STUB)
    stamp = tmp_path / "installed"
    stamp.touch()  # newer than pyproject.toml: make does not reinstall
    lint = "false" if "lint" in failing.split(",") else "true"
    done = subprocess.run(["make", "-s", "test", f"STAMP={stamp}", f"LINT_IMPORTS={lint}",
                           f"PYTEST={sys.executable} {stub} {calls} {failing or '-'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MAKEFLAGS="", LINT="lint", PYTEST="pytest"))  # env must not leak in
    assert done.returncode == code, done.stdout + done.stderr
    ran = calls.read_text().splitlines()
    assert [line.split()[-1] for line in ran] == ["tests", "notebooks"], ran
    assert all(line.startswith(f"{failing or '-'} -q") for line in ran)
    if code:
        summary = [line for line in done.stderr.splitlines() if line.startswith("make test: FAILED:")]
        assert len(summary) == 1, done.stderr
        summary = summary[0]
        assert ("library tests" in summary) == ("tests" in failing.split(","))
        assert ("notebooks" in summary) == ("notebooks" in failing.split(","))
        assert ("import layers" in summary) == ("lint" in failing.split(","))
    else:
        assert "passed" in done.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_test_calls_the_projects_own_tools(tmp_path):
    # a dry run shows the commands as make expands them: none of make's built-in variables (it
    # defines LINT, for one) or the environment may stand in for the project's tools
    stamp = tmp_path / "installed"
    stamp.touch()
    done = subprocess.run(["make", "-n", "test", f"STAMP={stamp}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, MAKEFLAGS="", PYTEST="pytest"))
    assert done.returncode == 0, done.stderr
    assert ".venv/bin/lint-imports ||" in done.stdout
    assert ".venv/bin/python -m pytest -q tests ||" in done.stdout
    assert ".venv/bin/python -m pytest -q --nbval-lax notebooks ||" in done.stdout
