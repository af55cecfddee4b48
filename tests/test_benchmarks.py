"""The benchmark scripts run (in smoke-test form) and skip cleanly without data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[1]
DATA = Path(os.environ.get("SKNETS_DATA", ROOT.parent / "shared" / "data"))


def _run(script, *args, timeout=300):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )


@pytest.mark.parametrize("script", ["literature.py", "time_to_accuracy.py"])
def test_scripts_without_data_say_so_and_exit_cleanly(script, tmp_path):
    process = _run(script, "--data", str(tmp_path))
    assert process.returncode == 0, process.stderr
    assert "SKNETS_DATA" in process.stdout and "Skipped" in process.stdout


@pytest.mark.numerics
@pytest.mark.skipif(not (DATA / "mnist.npz").exists(),
                    reason="MNIST not found (set SKNETS_DATA)")
def test_literature_quick_run_writes_its_table(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import literature

    out = tmp_path / "results.json"
    process = _run("literature.py", "--data", str(DATA), "--datasets", "mnist",
                   "--quick", "--only", "batch-norm", "few-labels-random",
                   "few-labels-pretrained", "--json", str(out))
    assert process.returncode == 0, process.stderr
    report = json.loads(out.read_text())
    results = report["results"]
    seeds = list(report["few_label_seeds"])
    assert [(r["config"], r["seed"]) for r in results] == [
        ("batch-norm", 0),
        *[("few-labels-pretrained", s) for s in seeds],
        *[("few-labels-random", s) for s in seeds],
    ]
    # A smoke test (three epochs on 5000 images). One epoch of pre-training
    # at masking 0.5 leaves poor features, so the pre-trained rows are only
    # asked to beat chance (0.9) clearly.
    for r in results:
        bound = 0.8 if r["config"] == "few-labels-pretrained" else 0.5
        assert 0.0 <= r["test_error"] < bound and r["epochs"] >= 1
    assert report["few_label_corruption"] == literature.FEW_LABEL_CORRUPTION
    assert "| mnist" in process.stdout
    # The few-label margin is paired seed by seed.
    (margin,) = [s for s in report["summary"] if s["config"] == "few-label-margin"]
    error = {(r["config"], r["seed"]): r["test_error"] for r in results}
    expected = [100 * (error["few-labels-random", s]
                       - error["few-labels-pretrained", s]) for s in seeds]
    np.testing.assert_allclose(margin["margins_points"], expected)
    assert margin["pretrained_better"] == sum(m > 0 for m in expected)
    assert "few-label margin on mnist" in process.stdout


def test_literature_holdout_never_reads_the_test_set(tmp_path):
    # A data file without a test set: a --holdout run must not need one,
    # and the same run without --holdout must fail for want of it.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 2000)
    X = rng.integers(0, 256, (2000, 784)).astype("uint8")
    X[:, 0] = y * 25  # something to learn
    np.savez(tmp_path / "mnist.npz", X_train=X, y_train=y)
    out = tmp_path / "results.json"
    args = ("literature.py", "--data", str(tmp_path), "--datasets", "mnist",
            "--quick", "--only", "sgd-halving", "--json", str(out))
    process = _run(*args, "--holdout", "200")
    assert process.returncode == 0, process.stderr
    assert "held out of the training set" in process.stdout
    report = json.loads(out.read_text())
    assert report["holdout"] == 200
    assert [r["config"] for r in report["results"]] == ["sgd-halving"]
    without = _run(*args)
    assert without.returncode != 0 and "X_test" in without.stderr
    for bad in ("-5", "2000"):
        refused = _run(*args, "--holdout", bad)
        assert refused.returncode != 0 and "--holdout must be" in refused.stderr
    # --seeds runs only the given seeds of each row; seed 0 rows need 0.
    only = tmp_path / "seeds.json"
    args = ("literature.py", "--data", str(tmp_path), "--datasets", "mnist",
            "--quick", "--holdout", "200", "--only", "sgd-halving",
            "sknets-defaults", "--json", str(only))
    process = _run(*args, "--seeds", "1", "3")
    assert process.returncode == 0, process.stderr
    report = json.loads(only.read_text())
    assert [(r["config"], r["seed"]) for r in report["results"]] == [
        ("sknets-defaults", 1), ("sknets-defaults", 3)]
    assert report["seeds_run"] == [1, 3]


def test_few_label_draws_are_balanced_and_differ_by_seed(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import literature

    y = np.repeat(np.arange(10), 300)
    masks = [literature.labelled_rows(y, seed) for seed in (0, 0, 1)]
    for mask in masks:
        assert mask.sum() == literature.N_FEW_LABELS
        assert np.all(np.bincount(y[mask]) == literature.N_FEW_LABELS // 10)
    np.testing.assert_array_equal(masks[0], masks[1])
    assert (masks[0] != masks[2]).any()


def test_row_invariance_cost_prints_its_paired_table():
    process = _run("row_invariance_cost.py", "--quick")
    assert process.returncode == 0, process.stderr
    rows = [line for line in process.stdout.splitlines()
            if line.startswith("| 784") or line.startswith("| 64")]
    assert len(rows) == 5
    for row in rows:
        tiled, plain, ratio = (float(cell) for cell in row.split("|")[2:5])
        assert tiled > 0 and plain > 0 and ratio > 0


def test_partial_fit_overhead_prints_its_table(tmp_path):
    out = tmp_path / "overhead.json"
    process = _run("partial_fit_overhead.py", "--quick", "--hidden", "64",
                   "--calls", "40", "--window", "10", "--json", str(out))
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    # It says which sknets ran: the script must be comparable across checkouts.
    assert lines[0].startswith(f"sknets: {ROOT / 'sknets'}")
    cells = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:4]]
             for line in lines if line.startswith("| ") and "case" not in line}
    assert len(cells) == 10
    for case, (median, spread) in cells.items():
        low, high = (float(x) for x in spread.split(" to "))
        assert low <= float(median) <= high
        if not case.startswith("overhead"):  # times, not differences
            assert low > 0
    assert any(case.startswith("partial_fit of 32 rows") and "calls 10-19" in case
               for case in cells)
    assert any("calls 31-40" in case for case in cells)
    report = json.loads(out.read_text())
    assert report["early"] == [10, 19] and report["late"] == [31, 40]
    assert len(report["repeats"]) == 2
