"""expected_failed_checks lists exactly the estimator checks that fail.

Each instance runs scikit-learn's check_estimator once, as a user would, with
the expected failures from sknets.utils.estimator_checks: every check not
listed must pass, and every listed one must fail (scikit-learn reports a
listed check that raises as 'xfail' and one that passes as 'passed', so an
entry that went stale shows up as 'passed').
"""

import pytest
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets.utils.estimator_checks import expected_failed_checks

pytestmark = pytest.mark.numerics

# Every public estimator exactly as a user constructs it (float32, Adam).
DEFAULTS = [
    MLPClassifier(),
    MLPRegressor(),
    AutoencoderTransformer(),
    StackedPretrainedClassifier(),
    StackedPretrainedRegressor(),
]

# Small networks, float64 unless the option is about dtype, so that each
# option family is seen alone; trained long enough to pass the score checks.
F = dict(hidden_layer_sizes=(16,), max_iter=100, dtype="float64",
         learning_rate_init=0.01)
LBFGS = dict(hidden_layer_sizes=(8,), max_iter=30, dtype="float64",
             solver="lbfgs")
AE = dict(hidden_layer_sizes=(8,), max_iter=30, dtype="float64")
SP = dict(F, pretrain_max_iter=5)
OPTIONS = [
    MLPClassifier(**F),  # adam, float64: nothing expected to fail
    MLPClassifier(**{**F, "learning_rate_init": 0.1}, solver="sgd"),
    MLPClassifier(**{**F, "learning_rate_init": 0.3}, solver="adagrad"),
    MLPClassifier(**LBFGS),
    MLPRegressor(**LBFGS),
    MLPClassifier(**{**F, "learning_rate_init": 0.1}, solver="sgd", dropout=0.3),
    MLPRegressor(**F, input_dropout=0.1),
    MLPClassifier(**{**F, "learning_rate_init": 0.1}, solver="sgd",
                  batch_norm=True),
    MLPClassifier(**{**F, "learning_rate_init": 0.1}, solver="sgd",
                  early_stopping=True),
    MLPRegressor(**F, early_stopping=True),
    MLPClassifier(**{**F, "learning_rate_init": 0.1}, solver="sgd",
                  learning_rate="halving", n_iter_no_change=3),
    MLPClassifier(**{**F, "learning_rate_init": 0.5}, solver="sgd",
                  learning_rate="invscaling", power_t=0.25),
    MLPClassifier(**F, batch_size=16),
    MLPClassifier(**F, class_weight="balanced"),
    MLPClassifier(**F, class_weight={0: 1.0, 1: 2.0, 2: 3.0}),
    MLPClassifier(**F, warm_start=True),
    MLPRegressor(**{**F, "learning_rate_init": 0.03}, loss="poisson"),
    MLPRegressor(**F, warm_start=True),
    AutoencoderTransformer(**AE),  # tied weights
    AutoencoderTransformer(**AE, tied_weights=False),
    AutoencoderTransformer(**AE, corruption_level=0.3),
    AutoencoderTransformer(**AE, warm_start=True),
    StackedPretrainedClassifier(**SP),
    StackedPretrainedClassifier(**SP, pretrain_corruption_level=0.2),
    StackedPretrainedRegressor(**SP, dropout=0.2),
]


def _id(estimator):
    changed = estimator.get_params(deep=False)
    default = type(estimator)().get_params(deep=False)
    args = [f"{k}={v!r}" for k, v in changed.items() if v != default[k]]
    return f"{type(estimator).__name__}({', '.join(args)})"


@pytest.mark.parametrize("estimator", DEFAULTS + OPTIONS, ids=_id)
def test_expected_failed_checks_are_exactly_the_failing_checks(estimator):
    expected = expected_failed_checks(estimator)
    results = check_estimator(estimator, expected_failed_checks=expected,
                              on_skip=None, on_fail=None)
    status = {r["check_name"]: r["status"] for r in results}
    failed = sorted(name for name, s in status.items() if s == "failed")
    assert not failed, f"checks failing but not expected to: {failed}"
    # A float32 fit and its repeated-rows twin differ by round-off, which
    # the check's rtol=1e-7 sees on most BLAS kernels but not on all (the
    # stacked regressor's 1.5e-7 passes with SandyBridge's; the others'
    # 4.5e-7 to 1e-4 fail on every kernel measured): that entry may pass,
    # which costs a user nothing; every other one must fail.
    by_chance = ({name for name, why in expected.items() if "round-off" in why}
                 if isinstance(estimator, StackedPretrainedRegressor) else set())
    stale = sorted(name for name in expected if status.get(name) != "xfail"
                   and not (name in by_chance and status.get(name) == "passed"))
    assert not stale, f"expected to fail but passed or did not run: {stale}"


@pytest.mark.parametrize("estimator", DEFAULTS + OPTIONS, ids=_id)
def test_each_expected_failure_has_a_one_line_reason(estimator):
    for name, reason in expected_failed_checks(estimator).items():
        assert name.startswith("check_")
        assert reason and "\n" not in reason


def test_default_float32_estimators_expect_only_the_weight_checks_to_fail():
    dense = "check_sample_weight_equivalence_on_dense_data"
    sparse = "check_sample_weight_equivalence_on_sparse_data"
    for estimator in (MLPClassifier(), MLPRegressor()):
        assert set(expected_failed_checks(estimator)) == {dense, sparse}
    # These take dense input only, so the sparse check never runs.
    for estimator in DEFAULTS[2:]:
        assert set(expected_failed_checks(estimator)) == {dense}
    for estimator in DEFAULTS:
        assert expected_failed_checks(estimator.set_params(dtype="float64")) == {}


@pytest.mark.parametrize("other", [
    SklearnMLPClassifier(),
    make_pipeline(StandardScaler(), MLPClassifier()),
    MLPClassifier,
])
def test_expected_failed_checks_refuses_other_estimators(other):
    with pytest.raises(TypeError, match="takes an sknets estimator"):
        expected_failed_checks(other)
