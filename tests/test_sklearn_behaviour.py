"""Where scikit-learn's MLP has a rule, sknets follows it.

Convergence warnings of L-BFGS, ``partial_fit`` with early stopping, the
stratified validation split, single-class targets and the exception type of a
diverging fit; and a warning where a ``y`` coded with scikit-learn's
semi-supervised convention would silently train a class -1.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils.fixes import parse_version

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets.exceptions import DivergenceError

ALL = [MLPClassifier, MLPRegressor, AutoencoderTransformer,
       StackedPretrainedClassifier, StackedPretrainedRegressor]
CLASSIFIERS = [MLPClassifier, StackedPretrainedClassifier]
PRETRAIN = dict(pretrain_max_iter=1)


def make(cls, **params):
    extra = PRETRAIN if cls.__name__.startswith("Stacked") else {}
    return cls(hidden_layer_sizes=(4,), random_state=0, **extra, **params)


def make_data(cls, n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    if cls in CLASSIFIERS:
        return X, (X[:, 0] > 0).astype(int)
    return X, X @ np.array([1.0, -2.0, 0.5])


def fit(est, X, y, **kwargs):
    if isinstance(est, AutoencoderTransformer):
        return est.fit(X, **kwargs)
    return est.fit(X, y, **kwargs)


def fit_quietly(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(est, X, y, **kwargs)


# -- 1. L-BFGS that stops on its budget warns as scikit-learn's -------------


@pytest.mark.parametrize("cls", ALL)
def test_lbfgs_stopped_by_max_fun_warns_naming_max_fun(cls):
    X, y = make_data(cls)
    est = make(cls, solver="lbfgs", max_fun=3)
    with pytest.warns(ConvergenceWarning) as record:
        fit(est, X, y)
    messages = [str(w.message) for w in record
                if issubclass(w.category, ConvergenceWarning)]
    message = next(m for m in messages if m.startswith("lbfgs failed"))
    assert "(status=1)" in message
    assert "(max_fun=3)" in message
    assert "max_iter" not in message  # it stopped on evaluations, not iterations
    assert "You might also want to scale the data" in message


@pytest.mark.parametrize("cls", ALL)
def test_lbfgs_stopped_by_max_iter_warns_with_scikit_learns_wording(cls):
    X, y = make_data(cls)
    est = make(cls, solver="lbfgs", max_iter=2)
    with pytest.warns(
        ConvergenceWarning,
        match=r"lbfgs failed to converge after 2 iteration\(s\) \(status=1\):\n"
              r"(.|\n)*\nIncrease the number of iterations to improve the "
              r"convergence \(max_iter=2\)\.\nYou might also want to scale the "
              r"data as shown in:\n    https://scikit-learn.org/stable/modules/"
              r"preprocessing\.html",
    ):
        fit(est, X, y)


@pytest.mark.skipif(parse_version(sklearn.__version__) < parse_version("1.9"),
                    reason="scikit-learn 1.9's wording (older ones word it otherwise)")
def test_lbfgs_warning_matches_scikit_learns_on_the_same_stop():
    X, y = make_data(MLPClassifier)
    ours = make(MLPClassifier, solver="lbfgs", max_iter=2)
    theirs = SkMLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=2,
                             random_state=0)
    with pytest.warns(ConvergenceWarning) as ours_record:
        ours.fit(X, y)
    with pytest.warns(ConvergenceWarning) as theirs_record:
        theirs.fit(X, y)
    assert str(ours_record[0].message) == str(theirs_record[0].message)


# -- 2. partial_fit with early stopping --------------------------------------


@pytest.mark.parametrize("cls", ALL)
def test_partial_fit_with_early_stopping_raises_scikit_learns_value_error(cls):
    X, y = make_data(cls)
    est = fit_quietly(make(cls, solver="sgd", max_iter=3, early_stopping=True),
                      X, y)
    coefs = [c.copy() for c in est.coefs_]
    with pytest.raises(ValueError,
                       match="partial_fit does not support early_stopping=True"):
        est.partial_fit(X, y)
    for before, after in zip(coefs, est.coefs_, strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("cls", ALL)
def test_partial_fit_is_hidden_with_early_stopping_fitted_or_not(cls):
    # scikit-learn's estimator checks call partial_fit wherever hasattr says
    # it exists; with early stopping it cannot run, so it is not there.
    X, y = make_data(cls)
    est = make(cls, solver="sgd", max_iter=3, early_stopping=True)
    assert not hasattr(est, "partial_fit")
    fit_quietly(est, X, y)
    assert not hasattr(est, "partial_fit")
    assert hasattr(est.set_params(early_stopping=False), "partial_fit")


@pytest.mark.parametrize("cls", ALL)
def test_partial_fit_with_lbfgs_is_an_attribute_error_only(cls):
    est = make(cls, solver="lbfgs", early_stopping=True)
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        est.partial_fit  # noqa: B018
    assert not isinstance(info.value, ValueError)


# -- 3. the stratified validation split ---------------------------------------


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_early_stopping_with_a_single_member_class_raises_the_split_error(cls):
    X, y = make_data(cls)
    y = y.copy()
    y[0] = 2  # a third class of one sample
    est = make(cls, solver="sgd", max_iter=3, early_stopping=True)
    with pytest.raises(ValueError, match=r"The least populated class(es)? in y "
                                         r"ha(s|ve) only 1 member, which is too few"
                                         r"(.|\n)*single member: \[2\]"):
        fit_quietly(est, X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_a_validation_set_too_small_for_every_class_is_drawn_at_random(cls):
    # A documented difference: scikit-learn raises when the validation rows
    # are fewer than the classes; sknets splits at random (README).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = np.repeat([0, 1, 2], [8, 6, 6])
    est = fit_quietly(make(cls, solver="sgd", max_iter=3, early_stopping=True),
                      X, y)
    assert len(est.validation_scores_) == est.n_iter_


# -- 4. a single class ---------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_a_single_class_is_fitted_and_predicted_as_by_scikit_learn(cls, solver):
    X, _ = make_data(cls)
    y = np.full(len(X), "only")
    est = fit_quietly(make(cls, solver=solver, max_iter=20), X, y)
    theirs = fit_quietly(SkMLPClassifier(hidden_layer_sizes=(4,), solver=solver,
                                         max_iter=20, random_state=0), X, y)
    np.testing.assert_array_equal(est.classes_, theirs.classes_)
    np.testing.assert_array_equal(est.predict(X), np.full(len(X), "only"))
    assert est.predict_proba(X).shape == theirs.predict_proba(X).shape == (len(X), 2)
    if solver == "lbfgs":
        # The one logistic output is trained towards 0, the binarised label of
        # the only class, so the first column, the class's, tends to 1.
        assert (est.predict_proba(X)[:, 0] > 0.9).all()
        assert (theirs.predict_proba(X)[:, 0] > 0.9).all()
    assert est.out_activation_ == theirs.out_activation_ == "logistic"
    assert est.n_outputs_ == theirs.n_outputs_ == 1
    assert est.score(X, y) == 1.0


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_a_single_class_with_early_stopping_keeps_the_feature_names(cls):
    X, _ = make_data(cls)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    y = np.full(len(X), 3)
    est = fit_quietly(make(cls, max_iter=20, early_stopping=True), df, y)
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(est.predict(df), y)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_partial_fit_accepts_a_single_class(cls):
    X, _ = make_data(cls)
    est = make(cls, max_iter=20)
    est.partial_fit(X, np.zeros(len(X), dtype=int), classes=[0])
    np.testing.assert_array_equal(est.predict(X), np.zeros(len(X)))


# -- 5. a diverging fit raises a ValueError -------------------------------------


@pytest.mark.parametrize("cls", ALL)
def test_a_divergent_fit_raises_a_value_error_that_says_to_scale(cls):
    X, y = make_data(cls)
    est = make(cls, solver="sgd", activation="relu", learning_rate_init=1e30,
               max_iter=5)
    if cls.__name__.startswith("Stacked"):
        est.set_params(pretrain_learning_rate_init=1e30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=r"scale the inputs \(e\.g\. with "
                                             r"StandardScaler\)") as info:
            fit_quietly(est, X * 1e3, y)
    assert isinstance(info.value, DivergenceError)
    assert isinstance(info.value, RuntimeError)  # as before
    assert not hasattr(est, "coefs_")


# -- 6. a y in scikit-learn's semi-supervised convention ------------------------


@pytest.mark.parametrize(
    "labels, counts",
    [
        pytest.param([-1, 0, 1], [40, 10, 10], id="most-rows-unlabeled"),
        pytest.param([-1, 0, 1, 2], [25, 12, 12, 11], id="twice-any-class"),
        pytest.param([-1.0, 3.0, 7.0], [31, 15, 14], id="integer-floats"),
    ],
)
def test_semi_supervised_looking_y_warns_naming_unlabeled_label(labels, counts):
    X, _ = make_data(StackedPretrainedClassifier)
    y = np.repeat(labels, counts)
    est = make(StackedPretrainedClassifier, max_iter=3)
    with pytest.warns(UserWarning, match="unlabeled_label=-1"):
        fit_quietly(est, X, y)
    assert -1 in est.classes_


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_the_minus_one_warning_points_at_the_users_call(method):
    X, _ = make_data(StackedPretrainedClassifier)
    y = np.repeat([-1, 0, 1], [40, 10, 10])
    est = make(StackedPretrainedClassifier, max_iter=3)
    kwargs = {"classes": [-1, 0, 1]} if method == "partial_fit" else {}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        getattr(est, method)(X, y, **kwargs)
    (warning,) = [w for w in record if "unlabeled_label=-1" in str(w.message)]
    assert warning.filename == __file__


@pytest.mark.parametrize(
    "labels, counts, unlabeled_label",
    [
        pytest.param([-1, 1], [30, 30], None, id="balanced-minus-one-one"),
        pytest.param([-1, 1], [50, 10], None, id="imbalanced-minus-one-one"),
        pytest.param([-1, 0, 1], [20, 20, 20], None, id="three-balanced"),
        pytest.param([-1, 0, 1], [40, 10, 10], -1, id="unlabeled-label-given"),
        pytest.param([-2, 0, 1], [40, 10, 10], None, id="not-minus-one"),
    ],
)
def test_an_ordinary_y_with_minus_one_does_not_warn(labels, counts,
                                                    unlabeled_label):
    X, _ = make_data(StackedPretrainedClassifier)
    y = np.repeat(labels, counts)
    est = make(StackedPretrainedClassifier, max_iter=3,
               unlabeled_label=unlabeled_label)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        # ConvergenceWarning is a UserWarning; the later filter comes first.
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
