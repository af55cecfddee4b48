"""The documentation site builds without warnings and its snippets run."""

import os
import re
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
    # The gallery is not executed here (the docs task runs it, and checks
    # its figures in a browser): seconds, not minutes.
    env["SKNETS_DOCS_RUN_EXAMPLES"] = "0"
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
    ("getting_started.html", "Where next"),
    ("install.html", "Building a wheel"),
    ("install.html", "Tested with"),
    ("compatibility.html", "Estimator checks"),
    ("compatibility.html", "Hard to misuse"),
    ("performance.html", "Speed and memory"),
    ("performance.html", "Against scikit-learn, with scikit-learn"),
    ("literature.html", "The recipe on MNIST and Fashion-MNIST"),
    ("literature.html", "Pre-training with few labels"),
    ("index.html", "performance.html"),
    ("index.html", "literature.html"),
])
def test_key_pages_exist(site, page, text):
    code, log, paths = site
    assert code == 0, log
    assert text in (paths["html"] / page).read_text(encoding="utf-8")


def test_the_maths_needs_no_network(site):
    code, log, paths = site
    assert code == 0, log
    page = (paths["html"] / "user_guide" / "batch_norm.html").read_text()
    assert 'src="../_static/mathjax/tex-chtml.js' in page
    assert (paths["html"] / "_static" / "mathjax" / "tex-chtml.js").exists()
    # No script or style sheet from another host.
    assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', page)


def test_the_theme_and_the_links_to_scikit_learn(site):
    code, log, paths = site
    assert code == 0, log
    index = (paths["html"] / "index.html").read_text()
    assert "pydata-sphinx-theme" in index or "pst-" in index
    api = (paths["html"] / "api.html").read_text()
    for target in ("modules/generated/sklearn.base.BaseEstimator.html",
                   "modules/generated/sklearn.pipeline.Pipeline.html",
                   "glossary.html#term-estimator"):
        assert f'href="https://scikit-learn.org/stable/{target}' in api, target
    started = (paths["html"] / "getting_started.html").read_text()
    assert "MLPClassifier" in started and "Where next" in started


def test_the_browser_check_tells_a_placeholder_thumbnail(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    import numpy as np
    import sphinx_gallery

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from check_site import _is_placeholder
    finally:
        sys.path.pop(0)
    static = tmp_path / "_static"
    static.mkdir()
    blank = Path(sphinx_gallery.__file__).parent / "_static" / "no_image.png"
    shutil.copy(blank, static / "no_image.png")
    image = plt.imread(blank)
    rows = np.linspace(0, image.shape[0] - 1, 140).astype(int)
    cols = np.linspace(0, image.shape[1] - 1, 200).astype(int)
    (tmp_path / "_images").mkdir()
    plt.imsave(tmp_path / "_images" / "blank_thumb.png", image[rows][:, cols])
    figure = np.random.default_rng(0).random((140, 200, 4))
    figure[..., 3] = 1
    plt.imsave(tmp_path / "_images" / "figure_thumb.png", figure)
    url = "http://127.0.0.1:8000/_images/"
    assert _is_placeholder(url + "blank_thumb.png", tmp_path)
    assert not _is_placeholder(url + "figure_thumb.png", tmp_path)


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


# -- README.md: what a newcomer reads first; the reports live in the docs ------

README = ROOT / "README.md"
DOC_PAGES = {name: ROOT / "docs" / f"{name}.rst"
             for name in ("install", "compatibility", "performance", "literature")}
BENCHMARKS_README = ROOT / "benchmarks" / "README.md"


def _markdown_section(text, title):
    """The body of a README ``## title`` section."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def _table_rows(text, header_start):
    """Cells of the markdown table whose header row starts with ``header_start``."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_readme_is_short_and_has_the_newcomer_sections():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 250
    for title in ("Install", "Try it: the developer commands", "Example",
                  "Against scikit-learn's MLP", "Results", "Documentation"):
        assert f"\n## {title}\n" in text, title
    install = _markdown_section(text, "Install")
    for command in ('pip install .', 'pip install ".[plot]"', 'pip install ".[fast]"',
                    "python -m pip wheel --no-deps -w dist .", "python -m build"):
        assert command in install, command
    commands = _markdown_section(text, "Try it: the developer commands")
    for task in ("demo", "test", "docs"):
        assert f"python3 dev.py {task}" in commands
    # The lab notebook stays out: no per-seed statistics, no targets.
    for notebook in ("Welch", "paired t", "issue's targets", "two speeds"):
        assert notebook not in text, notebook


def test_readme_parameter_table_has_every_default():
    rows = _table_rows(README.read_text(encoding="utf-8"), "| parameter | default |")
    assert len(rows) >= 10
    defaults = {row[0]: row[1] for row in rows}
    assert all(defaults.values()), defaults
    assert defaults['`solver="adagrad"`'] == '`"adam"`'
    assert defaults['`learning_rate="halving"`'] == '`"constant"`'
    import sknets

    params = sknets.MLPClassifier().get_params()
    assert params["solver"] == "adam" and params["learning_rate"] == "constant"


def test_readme_headline_tables_come_from_the_reports():
    # One speed and one accuracy table, each with the command that makes it;
    # their figures are those of the full reports in the docs, unchanged.
    import re

    results = _markdown_section(README.read_text(encoding="utf-8"), "Results")
    assert "benchmarks/run.py" in results and "benchmarks/literature.py" in results
    reports = (DOC_PAGES["performance"].read_text(encoding="utf-8")
               + DOC_PAGES["literature"].read_text(encoding="utf-8"))
    tables = [line for line in results.splitlines() if line.startswith("| ")]
    numbers = set(re.findall(r"\d+\.\d+", "\n".join(tables)))
    assert len(numbers) > 30
    assert not [n for n in sorted(numbers) if n not in reports]


def test_the_measurement_reports_moved_whole_to_the_docs():
    performance = DOC_PAGES["performance"].read_text(encoding="utf-8")
    for text in ("Speed and memory",
                 "Against scikit-learn, with scikit-learn's defaults",
                 "benchmarks/run.py", "benchmarks/profile_step.py",
                 "benchmarks/time_to_accuracy.py",
                 "benchmarks/row_invariance_cost.py",
                 "benchmarks/partial_fit_overhead.py",
                 "examples/compare_with_sklearn.py", "= the minibatch",
                 "never in 60 epochs", "**Not met**", "The machine has two speeds"):
        assert text in performance, text
    literature = DOC_PAGES["literature"].read_text(encoding="utf-8")
    for text in ("The recipe on MNIST and Fashion-MNIST", "benchmarks/literature.py",
                 "Welch t", "--holdout 10000", "Autoencoders against PCA", "13.19",
                 "Pre-training with few labels", "0.9023"):
        assert text in literature, text
    compatibility = DOC_PAGES["compatibility"].read_text(encoding="utf-8")
    for text in ("Estimator checks", "expected_failed_checks", "Hard to misuse",
                 "tests/test_hostile_inputs.py", "In the ecosystem", "skops",
                 "differs on purpose"):
        assert text in compatibility, text
    install = DOC_PAGES["install"].read_text(encoding="utf-8")
    for text in ("Tested with", "OPENBLAS_CORETYPE", "Layout", "_sklearn_compat.py",
                 "Which path you get", "Building a wheel"):
        assert text in install, text
    index = (ROOT / "docs" / "index.rst").read_text(encoding="utf-8")
    toctree = index[index.index(".. toctree::"):]
    for name in DOC_PAGES:
        assert f"\n   {name}\n" in toctree, name


def test_benchmarks_readme_describes_every_script_and_the_data():
    text = BENCHMARKS_README.read_text(encoding="utf-8")
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        assert f"### `{script.name}`" in text, script.name
    for text_needed in ("SKNETS_DATA", "mnist.npz", "fashion_mnist.npz", "X_train"):
        assert text_needed in text


def test_no_paths_a_clone_lacks_and_no_index_installs():
    # A clone has no ../shared/data, and sknets is not on a package index.
    pages = [README, BENCHMARKS_README, *sorted((ROOT / "docs").rglob("*.rst"))]
    pages = [p for p in pages if "auto_examples" not in p.parts
             and "_build" not in p.parts]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "shared/data" not in text, page
        assert "sknets[" not in text, page


def test_readme_links_resolve():
    import re

    for page in (README, BENCHMARKS_README):
        links = re.findall(r"\]\(([^)#]+)\)", page.read_text(encoding="utf-8"))
        assert links
        missing = [link for link in links if "://" not in link
                   and not (page.parent / link).exists()]
        assert not missing, (page, missing)
