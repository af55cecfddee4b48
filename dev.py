#!/usr/bin/env python3
"""Developer tasks that set themselves up: ``python3 dev.py demo|test|lint|docs|pins``.

Each task creates a virtual environment in ``.venv`` (once), installs sknets
and what the task needs into it from PyPI, then runs. Only python3 is needed.

``test`` runs the whole suite on the numpy backend and on the numba one
(``SKNETS_BACKEND``, set in the child processes only), then the tests
marked ``numerics`` again under two older OpenBLAS kernels that the CPU
supports and with one BLAS thread, so that no result depends on the kernel.
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


def run(*args, env=None):
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, env=env)


def pip_install(*args):
    """``pip install`` that prints errors only: pip's notices and the build
    backend's editable-install banner are not the task's output."""
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = ",".join(
        filter(None, [env.get("PYTHONWARNINGS"), "ignore:Editable installation"]))
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    run(PYTHON, "-m", "pip", "install", "-qq", *args, env=env)


def setup(extras):
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        pip_install("--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    pip_install("-e", target)


def demo():
    """Train on the bundled digits data and compare with scikit-learn."""
    setup("")
    run(PYTHON, "examples/digits_quickstart.py")


# OpenBLAS kernels from newest to oldest, with the CPU flags each needs.
KERNELS = [
    ("SkylakeX", {"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"}),
    ("Haswell", {"avx2", "fma"}),
    ("SandyBridge", {"avx"}),
    ("Prescott", {"pni"}),  # SSE3
]
# Position in KERNELS of the names threadpoolctl reports for a kernel.
# OpenBLAS reports Prescott's kernels as Katmai.
RANKS = {"sapphirerapids": -1, "cooperlake": -1, "skylakex": 0, "haswell": 1,
         "zen": 1, "sandybridge": 2, "prescott": 3, "katmai": 3}


def cpu_flags():
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def blas_kernel(env=None):
    """The OpenBLAS kernel numpy runs in a child process with ``env``, or None."""
    code = ("import numpy; from threadpoolctl import threadpool_info as i; "
            "print(next((x.get('architecture') for x in i() "
            "if x.get('internal_api') == 'openblas'), ''))")
    out = subprocess.run([str(PYTHON), "-c", code], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return out.strip() or None


def other_kernels(current, count=2):
    """Up to ``count`` kernels older than ``current`` that this CPU runs.

    Only older ones: a machine may set OPENBLAS_CORETYPE because a newer
    kernel misbehaves on it, and older kernels use a subset of the
    instructions of newer ones.
    """
    rank = RANKS.get(current.lower(), len(KERNELS))  # unknown: take it as old
    flags = cpu_flags()
    return [name for i, (name, needs) in enumerate(KERNELS)
            if i > rank and needs <= flags][:count]


def numerics_configurations():
    """``(label, env)`` for the reruns of the numerically sensitive tests.

    Set only in the child processes started here, never in the caller's
    environment.
    """
    configurations = []
    current = blas_kernel()
    kernels = other_kernels(current) if current is not None else []
    if len(kernels) < 2:
        print(f"note: only {len(kernels)} other OpenBLAS kernel(s) for this CPU "
              f"and numpy (kernel {current}); the numerics run under those only",
              flush=True)
    for kernel in kernels:
        configurations.append(
            (kernel, {**os.environ, "OPENBLAS_CORETYPE": kernel}))
    configurations.append(
        (None, {**os.environ, "OPENBLAS_NUM_THREADS": "1"}))
    return current, configurations


def same_kernel(requested, reported):
    """Whether threadpoolctl's name for a kernel is the one requested."""
    ranks = (RANKS.get(requested.lower()), RANKS.get((reported or "").lower()))
    return None not in ranks and ranks[0] == ranks[1]


def test():
    """Lint, the test suite, then its numerics under other BLAS kernels."""
    setup("dev")
    run(BIN / "ruff", "check", "sknets", "tests", "examples", "benchmarks", "docs",
        "dev.py")
    # The whole suite on each backend: numpy forced, then numba forced.
    for backend in ("numpy", "numba"):
        print(f"+ SKNETS_BACKEND={backend}", flush=True)
        run(PYTHON, "-m", "pytest", "tests", "sknets", "--doctest-modules", "-q",
            "-p", "no:cacheprovider",
            env={**os.environ, "SKNETS_BACKEND": backend})
    current, configurations = numerics_configurations()
    print(f"numpy's OpenBLAS kernel here: {current}", flush=True)
    for kernel, env in configurations:
        label = (f"OPENBLAS_CORETYPE={kernel}" if kernel
                 else "OPENBLAS_NUM_THREADS=1")
        reported = blas_kernel(env)
        print(f"+ {label}: kernel {reported}", flush=True)
        if kernel and not same_kernel(kernel, reported):
            sys.exit(f"OPENBLAS_CORETYPE={kernel} gave kernel {reported}")
        run(PYTHON, "-m", "pytest", "tests", "-m", "numerics", "-q",
            "-p", "no:cacheprovider", env=env)


def pins():
    """Record the pinned models of a commit (default HEAD) for this machine.

    ``python3 dev.py pins [COMMIT]`` checks COMMIT out in a temporary git
    worktree and runs ``tests/pinned_models.py`` with that checkout's sknets,
    under this machine's BLAS kernel and each configuration the numerics
    tests rerun under, adding the fingerprints to ``tests/pins/models.json``.
    """
    import tempfile

    setup("dev")
    commit = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    sha = subprocess.run(["git", "rev-parse", commit], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    out = ROOT / "tests" / "pins" / "models.json"
    out.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        run("git", "worktree", "add", "--detach", tree, sha)
        try:
            _, configurations = numerics_configurations()
            for _, env in [(None, dict(os.environ)), *configurations]:
                env = {**env, "PYTHONPATH": str(tree)}
                run(PYTHON, "tests/pinned_models.py", out, sha, env=env)
        finally:
            run("git", "worktree", "remove", "--force", tree)


def docs():
    """Build the documentation into docs/_build/html, run its snippets, then
    check four pages in headless Chromium (screenshots in
    docs/_build/screenshots).

    Without Chromium the browser check is skipped with a message, unless
    ``SKNETS_DOCS_BROWSER=required`` (as in CI), where that is an error.
    """
    setup("dev")
    doctrees = ("-d", "docs/_build/doctrees")  # parsed once, used by both
    run(BIN / "sphinx-build", "-W", "--keep-going", *doctrees, "-b", "html",
        "docs", "docs/_build/html")
    run(BIN / "sphinx-build", "-W", "--keep-going", *doctrees, "-b", "doctest",
        "docs", "docs/_build/doctest")
    print("+", PYTHON, "docs/check_site.py", flush=True)
    code = subprocess.run([str(PYTHON), "docs/check_site.py"], cwd=ROOT).returncode
    if code == 2 and os.environ.get("SKNETS_DOCS_BROWSER") != "required":
        print("The pages were built but not checked in a browser.")
    elif code:
        sys.exit(code)


def lint():
    setup("dev")
    run(BIN / "ruff", "check", "sknets", "tests", "examples", "benchmarks", "docs",
        "dev.py")


TASKS = {"demo": demo, "test": test, "lint": lint, "docs": docs, "pins": pins}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS or (
            len(sys.argv) > 2 and sys.argv[1] != "pins") or len(sys.argv) > 3:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(TASKS)}}} (pins [COMMIT])")
    try:
        TASKS[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
