#!/usr/bin/env python3
"""Developer tasks that set themselves up: ``python3 dev.py demo|test|lint|docs``.

Each task creates a virtual environment in ``.venv`` (once), installs sknets
and what the task needs into it from PyPI, then runs. Only python3 is needed.
"""

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*args):
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT)


def setup(extras):
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", target)


def demo():
    """Train on the bundled digits data and compare with scikit-learn."""
    setup("")
    run(PYTHON, "examples/digits_quickstart.py")


def test():
    """Lint, then the test suite."""
    setup("dev")
    run(BIN / "ruff", "check", "sknets", "tests", "examples", "benchmarks", "dev.py")
    run(PYTHON, "-m", "pytest", "tests", "sknets", "--doctest-modules", "-q")


def docs():
    """Build the documentation into docs/_build/html, then run its snippets."""
    setup("dev")
    doctrees = ("-d", "docs/_build/doctrees")  # parsed once, used by both
    run(BIN / "sphinx-build", "-W", "--keep-going", *doctrees, "-b", "html",
        "docs", "docs/_build/html")
    run(BIN / "sphinx-build", "-W", "--keep-going", *doctrees, "-b", "doctest",
        "docs", "docs/_build/doctest")


def lint():
    setup("dev")
    run(BIN / "ruff", "check", "sknets", "tests", "examples", "benchmarks", "dev.py")


TASKS = {"demo": demo, "test": test, "lint": lint, "docs": docs}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in TASKS:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(TASKS)}}}")
    try:
        TASKS[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
