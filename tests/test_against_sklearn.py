"""With scikit-learn's default parameters, sknets scores at least as well."""

import runpy
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

pytestmark = pytest.mark.numerics

SCRIPT = Path(__file__).parents[1] / "examples" / "compare_with_sklearn.py"


@pytest.fixture(scope="module")
def comparison():
    compare = runpy.run_path(str(SCRIPT))["compare"]
    # One BLAS thread: the comparison is of results, and it stays quick on a
    # busy machine.
    with threadpool_limits(limits=1):
        return compare()


# "At least as well" up to noise: with other random streams (seeds, BLAS
# kernels) sknets' 5-seed mean moved by -0.009..+0.009 around scikit-learn's
# in accuracy and -0.10..+0.09 in R^2 (diabetes, where both score about -1.2
# with the default max_iter). Exact ">=" failed on ties rounded differently.
TOLERANCE = {"diabetes": 0.2, "breast cancer": 0.02, "digits": 0.02, "wine": 0.02}


@pytest.mark.parametrize("data", ["diabetes", "breast cancer", "digits", "wine"])
def test_default_sknets_scores_at_least_as_well_as_sklearn(comparison, data):
    row = next(r for r in comparison if r["data"].startswith(data))
    assert row["sknets"] >= row["scikit-learn"] - TOLERANCE[data], row
