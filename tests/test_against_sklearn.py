"""With scikit-learn's default parameters, sknets scores at least as well."""

import runpy
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

SCRIPT = Path(__file__).parents[1] / "examples" / "compare_with_sklearn.py"


@pytest.fixture(scope="module")
def comparison():
    compare = runpy.run_path(str(SCRIPT))["compare"]
    # One BLAS thread: the comparison is of results, and it stays quick on a
    # busy machine.
    with threadpool_limits(limits=1):
        return compare()


@pytest.mark.parametrize("data", ["diabetes", "breast cancer", "digits", "wine"])
def test_default_sknets_scores_at_least_as_well_as_sklearn(comparison, data):
    row = next(r for r in comparison if r["data"].startswith(data))
    assert row["sknets"] >= row["scikit-learn"], row
