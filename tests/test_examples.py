"""The examples run (on the bundled digits) and show what they claim."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture(autouse=True)
def _digits_only(monkeypatch, tmp_path):
    monkeypatch.delenv("SKNETS_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # figures land here


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


def test_pretraining_example_prints_both_settings(capsys):
    runpy.run_path(str(EXAMPLES / "pretraining_few_labels.py"), run_name="__main__")
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.strip()[:1].isdigit()]
    assert len(rows) == 2
    few, every = rows
    # With few labels pre-training helps; with all of them it does not hurt.
    assert float(few[1]) > float(few[2])
    assert float(every[1]) >= float(every[2]) - 0.01
