"""The documentation site builds without warnings and its snippets run."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

for module in ("sphinx", "numpydoc", "sphinx_gallery"):
    pytest.importorskip(
        module, reason=f"{module} is not installed (pip install -e '.[docs]')"
    )


def sphinx_build(builder, source, out, doctrees):
    """Run sphinx-build with warnings as errors; return its exit code and log."""
    # Single-threaded BLAS: the snippets multiply small matrices, and on a
    # busy machine spinning BLAS threads make them many times slower.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    env.pop("SKNETS_DOCS_RUN_EXAMPLES", None)  # the gallery is not executed
    process = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
         "-b", builder, "-d", str(doctrees), str(source), str(out)],
        capture_output=True, text=True, env=env, timeout=600, cwd=source.parent,
    )
    return process.returncode, process.stdout + process.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A copy of docs/ and examples/ (the gallery is written next to the
    sources), built to HTML; the build's result and the paths."""
    tmp = tmp_path_factory.mktemp("site")
    ignore = shutil.ignore_patterns("_build", "auto_examples",
                                    "sg_execution_times.rst", "__pycache__")
    shutil.copytree(ROOT / "docs", tmp / "docs", ignore=ignore)
    shutil.copytree(ROOT / "examples", tmp / "examples", ignore=ignore)
    paths = {"source": tmp / "docs", "html": tmp / "html",
             "doctrees": tmp / "doctrees"}
    code, log = sphinx_build("html", paths["source"], paths["html"],
                             paths["doctrees"])
    return code, log, paths


def test_docs_build_without_warnings(site):
    code, log, _ = site
    assert code == 0, log


@pytest.mark.parametrize("page, text", [
    ("index.html", "User guide"),
    ("api.html", "MLPClassifier"),
    ("api.html", "StackedPretrainedRegressor"),
    ("api.html", "check_gradients"),
    ("api.html", "DivergenceError"),
    ("api.html", "config_context"),
    ("user_guide/backends.html", "SKNETS_BACKEND"),
    ("user_guide/batch_norm.html", "batch_norm_statistics"),
    ("user_guide/troubleshooting.html", "When it does not work"),
    ("auto_examples/index.html", "recipe_end_to_end"),
    ("auto_examples/dropout_vs_none.html", "Dropout against no dropout"),
    ("architecture.html", "A new backend"),
])
def test_key_pages_exist(site, page, text):
    code, log, paths = site
    assert code == 0, log
    assert text in (paths["html"] / page).read_text(encoding="utf-8")


def test_user_guide_snippets_run(site):
    code, log, paths = site
    assert code == 0, log
    code, log = sphinx_build("doctest", paths["source"], paths["html"].parent
                             / "doctest", paths["doctrees"])
    assert code == 0, log


def test_the_architecture_page_names_files_that_exist():
    # The page tells contributors which files a change touches: each file it
    # names must exist (in sknets/ or tests/).
    import re

    text = (ROOT / "docs" / "architecture.rst").read_text()
    names = set(re.findall(r"``((?:_engine/|tests/)?[\w/]+\.py)``", text))
    assert len(names) > 8
    root = ROOT
    missing = [name for name in sorted(names)
               if not ((root / "sknets" / name).exists() or (root / name).exists())]
    assert not missing
