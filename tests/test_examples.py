"""The examples run (on the bundled digits) and show what they claim."""

import ast
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"
# The gallery's examples; the helper modules start with an underscore.
SCRIPTS = sorted(path for path in EXAMPLES.glob("*.py")
                 if not path.name.startswith("_"))

try:
    import matplotlib
except ImportError:
    matplotlib = None


@pytest.fixture(autouse=True)
def _digits_only(monkeypatch, tmp_path):
    monkeypatch.delenv("SKNETS_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # figures land here
    # As `python examples/x.py` does, so that their helper modules import.
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.fixture(autouse=True)
def _close_figures():
    # The examples leave their figures open (for the docs' gallery).
    if matplotlib is not None:
        matplotlib.use("Agg")
    yield
    if matplotlib is not None:
        import matplotlib.pyplot as plt

        plt.close("all")


@pytest.mark.numerics
def test_autoencoder_beats_pca_and_saves_filters(capsys, tmp_path):
    runpy.run_path(str(EXAMPLES / "autoencoder_vs_pca.py"), run_name="__main__")
    out = capsys.readouterr().out
    ratio = float(out.split("error is ")[1].split(" x")[0])
    assert ratio < 1.0, out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert (tmp_path / "autoencoder_filters.png").stat().st_size > 0


@pytest.mark.numerics
def test_pretraining_example_prints_both_settings(capsys):
    runpy.run_path(str(EXAMPLES / "pretraining_few_labels.py"), run_name="__main__")
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.strip()[:1].isdigit()]
    assert len(rows) == 2
    few, every = rows
    # With few labels pre-training helps; with all of them it does not hurt.
    assert float(few[1]) > float(few[2])
    assert float(every[1]) >= float(every[2]) - 0.01


@pytest.mark.numerics
def test_diagnose_example_finds_the_problems_and_the_fix(capsys, tmp_path):
    runpy.run_path(str(EXAMPLES / "diagnose_broken_setup.py"), run_name="__main__")
    out = capsys.readouterr().out
    broken, fixed = out.split("=== fixed setup ===")
    assert "saturated_units" in broken and "unnormalised_inputs" in broken
    assert "overfit check FAILED" in broken
    assert any(code in broken for code in ("diverging", "bouncing",
                                           "worse_than_chance"))
    assert "overfit check passed" in fixed and "[warning]" not in fixed
    accuracy = {line.split(":")[0]: float(line.split()[-1])
                for line in out.splitlines() if ": test accuracy" in line}
    assert accuracy["fixed setup"] > 0.9
    assert accuracy["broken setup"] < accuracy["fixed setup"] - 0.3
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert (tmp_path / "diagnose_curves.png").stat().st_size > 0


def _table(out):
    """Rows of a comparison example's table: name -> (best val, test accuracy)."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("model "))
    rows = {}
    for line in lines[header + 1:]:
        # The table ends at a blank line, the saved figure's path, or the
        # note that matplotlib (optional) is not installed.
        if not line.strip() or line.startswith(("saved", "matplotlib is not")):
            break
        name, cells = line[:line.index("  ")], line.split()
        rows[name] = (float(cells[-5]), float(cells[-2]))
    return rows


@pytest.mark.numerics
@pytest.mark.parametrize("script, n_rows, plots", [
    ("recipe_end_to_end.py", None, False),
    ("dropout_vs_none.py", 3, True),
    ("batchnorm_vs_none.py", 7, True),
    ("adagrad_vs_momentum.py", 7, True),
])
def test_recipe_and_comparison_examples_run_fast(script, n_rows, plots, capsys,
                                                 monkeypatch, tmp_path):
    monkeypatch.setenv("SKNETS_EXAMPLES_FAST", "1")
    argv = [script] + (["--plot", str(tmp_path / "curves.png")] if plots else [])
    monkeypatch.setattr("sys.argv", argv)
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out = capsys.readouterr().out
    if n_rows is None:
        assert "best: {" in out
        assert float(out.split("test accuracy: ")[1].split()[0]) > 0.9, out
        return
    rows = _table(out)
    assert len(rows) == n_rows, out
    assert all(test > 0.8 for _, test in rows.values()), out
    if script == "batchnorm_vs_none.py":
        # At a small rate the deep logistic network learns faster normalised.
        assert rows["rate 0.01, batch norm"][0] > rows["rate 0.01"][0], out
    if script == "adagrad_vs_momentum.py":
        assert rows["Adagrad, rate 0.01"][0] > rows["SGD, rate 0.01"][0], out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert (tmp_path / "curves.png").stat().st_size > 0


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_examples_do_not_need_their_file_name(path):
    # sphinx-gallery runs an example's code without defining __file__ (it
    # puts the example's folder on sys.path instead, as `python x.py` does);
    # an example that reads __file__ fails there with a NameError.
    tree = ast.parse(path.read_text(), filename=str(path))
    uses = [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id == "__file__"]
    assert uses == [], f"{path.name} reads __file__ on lines {uses}"


def _has_data(ax):
    return bool(ax.lines or ax.images or ax.patches or ax.collections)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_example_leaves_a_figure_open(path, capsys, monkeypatch):
    # As the docs' gallery runs an example: fast mode, the Agg backend, no
    # command-line options, as __main__; it shows the figures still open at
    # the end, the first as the example's thumbnail.
    monkeypatch.setenv("SKNETS_EXAMPLES_FAST", "1")
    monkeypatch.setattr("sys.argv", [str(path)])
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    if matplotlib is None:
        assert "matplotlib is not installed" in out
        return
    import matplotlib.pyplot as plt

    figures = [plt.figure(number) for number in plt.get_fignums()]
    assert figures, f"{path.name} left no figure open"
    # The thumbnail, at least, shows something.
    assert any(_has_data(ax) for ax in figures[0].axes), (
        f"{path.name}'s first figure has no lines, images, bars or markers")
    assert "matplotlib is not installed" not in out
