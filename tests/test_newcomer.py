"""What a newcomer trips on (issue 22): the ways of getting a wrong model
silently, and messages that name the user's argument and line.

Each test here failed on the code before these checks: validation data
that skipped the pipeline's preprocessing, an ``unlabeled_label`` that can
never match, a training report that named the wrong stop, saturated units
at chance level without a word, messages about ``y`` for ``y_val``, and
warnings pointing at sknets' own lines.
"""

import pickle
import traceback
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
)
from sknets.diagnostics import training_report
from sknets.exceptions import DivergenceError

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_TRAIN, X_VAL, Y_TRAIN, Y_VAL = train_test_split(
    X_DIGITS, Y_DIGITS, test_size=300, random_state=0, stratify=Y_DIGITS)


def _recorded(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, record


def _messages(record, text):
    return [w for w in record if text in str(w.message)]


# -- validation data that skipped the preprocessing ----------------------------

def test_unscaled_validation_data_in_a_pipeline_warns_and_names_the_fix():
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier(hidden_layer_sizes=(16,), max_iter=3,
                                       random_state=0))
    _, record = _recorded(pipe.fit, X_TRAIN, Y_TRAIN,
                          mlpclassifier__X_val=X_VAL, mlpclassifier__y_val=Y_VAL)
    (warning,) = _messages(record, "X_val looks preprocessed differently")
    assert "transform_input" in str(warning.message)
    assert "set_fit_request" in str(warning.message)
    assert warning.filename == __file__


def test_validation_data_routed_through_the_pipeline_does_not_warn():
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [("scale", StandardScaler()),
             ("mlp", MLPClassifier(hidden_layer_sizes=(16,), max_iter=3,
                                   random_state=0)
              .set_fit_request(X_val=True, y_val=True))],
            transform_input=["X_val"],
        )
        _, record = _recorded(pipe.fit, X_TRAIN, Y_TRAIN, X_val=X_VAL,
                              y_val=Y_VAL)
    assert not _messages(record, "X_val looks preprocessed")


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler()])
@pytest.mark.parametrize("n_val", [2, 5, 30, 300])
def test_validation_rows_of_the_same_distribution_never_warn(scaler, n_val):
    # Small validation sets have noisy means and spreads: no false alarm.
    scaler = scaler.fit(X_TRAIN)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    for start in range(0, 300 - n_val + 1, max(n_val, 37)):
        rows = slice(start, start + n_val)
        _, record = _recorded(clf.fit, scaler.transform(X_TRAIN), Y_TRAIN,
                              X_val=scaler.transform(X_VAL[rows]),
                              y_val=Y_VAL[rows])
        assert not _messages(record, "X_val looks preprocessed")


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler()])
def test_validation_data_on_another_scale_warns_for_every_estimator(scaler):
    scaler = scaler.fit(X_TRAIN)
    Xs = scaler.transform(X_TRAIN)
    targets = Xs[:, :3].sum(axis=1)
    for est, y, y_val in [
        (MLPClassifier(max_iter=1, random_state=0), Y_TRAIN, Y_VAL),
        (MLPRegressor(max_iter=1, random_state=0), targets, X_VAL[:, :3].sum(1)),
    ]:
        _, record = _recorded(est.fit, Xs, y, X_val=X_VAL, y_val=y_val)
        assert _messages(record, "X_val looks preprocessed differently"), est


def test_the_scale_check_reads_sparse_validation_data():
    import scipy.sparse as sp

    Xs = StandardScaler(with_mean=False).fit(X_TRAIN)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    train = sp.csr_matrix(Xs.transform(X_TRAIN))
    _, record = _recorded(clf.fit, train, Y_TRAIN,
                          X_val=sp.csr_matrix(Xs.transform(X_VAL)), y_val=Y_VAL)
    assert not _messages(record, "X_val looks preprocessed")
    _, record = _recorded(clf.fit, train, Y_TRAIN,
                          X_val=sp.csr_matrix(X_VAL * 10), y_val=Y_VAL)
    assert _messages(record, "X_val looks preprocessed")


# -- unlabeled_label of a type that can never match -----------------------------

def _semi_supervised_data():
    X = StandardScaler().fit_transform(X_DIGITS[:120])
    y = Y_DIGITS[:120] % 3
    y[::3] = -1
    return X, y


def _pretrained(**params):
    return StackedPretrainedClassifier(
        hidden_layer_sizes=(8,), pretrain_max_iter=1, max_iter=2,
        random_state=0, **params)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_string_unlabeled_label_with_integer_labels_is_refused(method):
    X, y = _semi_supervised_data()
    est = _pretrained(unlabeled_label="-1")
    kwargs = {"classes": [-1, 0, 1, 2]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=r"unlabeled_label='-1'.*never equal"
                                         r".*unlabeled_label=-1"):
        getattr(est, method)(X, y, **kwargs)
    assert not hasattr(est, "classes_")


def test_an_integer_unlabeled_label_with_string_labels_is_refused():
    X, y = _semi_supervised_data()
    with pytest.raises(ValueError, match=r"unlabeled_label=-1 .*strings"):
        _pretrained(unlabeled_label=-1).fit(X, y.astype(str))


@pytest.mark.parametrize("labels, unlabeled", [
    (lambda y: y, -1), (lambda y: y.astype(float), -1),
    (lambda y: y, -1.0), (lambda y: y.astype(str), "-1"),
    (lambda y: y.astype(str).astype(object), "-1"),
])
def test_unlabeled_labels_of_a_matching_type_mark_the_rows(labels, unlabeled):
    X, y = _semi_supervised_data()
    est, _ = _recorded(_pretrained(unlabeled_label=unlabeled).fit, X, labels(y))
    assert len(est.classes_) == 3  # the unlabeled rows are no class


# -- the training report names the real stop ----------------------------------

X_STD = StandardScaler().fit_transform(X_DIGITS)


def _recipe(**params):
    params = dict(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.1,
                  momentum=0.9, learning_rate="halving", early_stopping=True,
                  random_state=0) | params
    clf, _ = _recorded(MLPClassifier(**params).fit, X_STD, Y_DIGITS)
    return clf


@pytest.mark.numerics
def test_the_report_says_training_ended_at_the_learning_rate_floor():
    clf = _recipe()
    assert clf.n_iter_ < clf.max_iter
    report = training_report(clf)
    assert "early_stopped" not in report.codes
    (floor,) = [f for f in report.findings if f.code == "learning_rate_floor"]
    assert "min_learning_rate=1e-06" in floor.message
    # The epochs after the best one, through every later cut, are most of the
    # fit: flagged, with a floor that stops earlier as remedy.
    assert clf.n_iter_ - report.best_epoch > 0.5 * clf.n_iter_
    (wasted,) = [f for f in report.findings if f.code == "wasted_epochs"]
    assert f"{clf.n_iter_ - report.best_epoch} of the {clf.n_iter_}" in (
        wasted.message)
    assert "min_learning_rate=" in wasted.remedy
    assert not report.healthy


@pytest.mark.numerics
def test_the_remedy_of_wasted_epochs_works():
    clf = _recipe()
    report = training_report(clf)
    floor = float(training_report(clf).findings[-1].remedy
                  .split("min_learning_rate=")[1].split(",")[0])
    quicker = _recipe(min_learning_rate=floor)
    assert quicker.n_iter_ < clf.n_iter_ / 2
    assert "wasted_epochs" not in training_report(quicker).codes
    assert quicker.best_validation_score_ >= report.best_validation_score - 0.01


@pytest.mark.numerics
def test_a_constant_rate_stops_early_without_wasted_epochs():
    report = training_report(_recipe(learning_rate="constant"))
    assert "early_stopped" in report.codes
    assert "learning_rate_floor" not in report.codes
    assert "wasted_epochs" not in report.codes
    report = training_report(_recipe(learning_rate="constant",
                                     n_iter_no_change=60, max_iter=400))
    assert "wasted_epochs" not in report.codes  # patience by design


def test_the_report_counts_lbfgs_iterations_and_epochs_with_their_unit():
    clf, _ = _recorded(MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs",
                                     max_iter=15, random_state=0).fit,
                       X_STD, Y_DIGITS)
    text = str(training_report(clf))
    assert "0 epochs" not in text
    assert f"solver='lbfgs', {clf.n_iter_} iterations" in text
    clf, _ = _recorded(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                     random_state=0).fit, X_STD, Y_DIGITS)
    (finding,) = training_report(clf).findings
    assert finding.code == "not_converged"
    assert "over the last 2 epochs" in finding.message


# -- saturated units ------------------------------------------------------------

def _stuck(est, X, y=None):
    """``est`` fitted, then its first layer blown up so that every hidden unit
    sits at the top of its range on every row (inputs >= 0, weights and bias
    > 0), then fitted on with warm_start at a negligible rate: the fit's own
    check runs on a model stuck the way a far too large rate leaves one,
    deterministically on every backend and BLAS."""
    args = (X,) if y is None else (X, y)
    _recorded(est.fit, *args)
    W, b = est.coefs_[0], est.intercepts_[0]
    est.coefs_[0] = 100 * np.abs(W) + 1
    est.intercepts_[0] = np.abs(b) + 1
    est.set_params(warm_start=True, learning_rate_init=1e-12, max_iter=1)
    return _recorded(est.fit, *args)


@pytest.mark.numerics
@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_saturated_units_warn_after_fit(activation):
    clf = MLPClassifier(hidden_layer_sizes=(20,), activation=activation,
                        solver="sgd", max_iter=5, random_state=0)
    clf, record = _stuck(clf, X_DIGITS, Y_DIGITS)
    assert clf.score(X_DIGITS, Y_DIGITS) < 0.2  # one output for every row
    (warning,) = _messages(record, f"20 of the 20 {activation} units of hidden "
                                   "layer 1")
    assert "saturated" in str(warning.message)
    assert warning.category is ConvergenceWarning
    assert warning.filename == __file__


@pytest.mark.numerics
@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_the_issues_chance_level_model_is_reported(activation):
    # SGD at learning_rate_init=10 on raw digits: where training ends there
    # depends on the BLAS, but a model at chance level is never silent.
    clf = MLPClassifier(solver="sgd", learning_rate_init=10, activation=activation,
                        max_iter=20, random_state=0)
    clf, record = _recorded(clf.fit, X_DIGITS, Y_DIGITS)
    if clf.score(X_DIGITS, Y_DIGITS) < 0.2:
        assert _messages(record, f"{activation} units of hidden layer 1")


@pytest.mark.numerics
@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_healthy_bounded_units_do_not_warn(activation):
    clf, record = _recorded(
        MLPClassifier(activation=activation, max_iter=50, random_state=0).fit,
        X_STD, Y_DIGITS)
    assert clf.score(X_STD, Y_DIGITS) > 0.95
    assert not _messages(record, "saturated")


def test_an_autoencoder_with_a_saturated_code_warns():
    est = AutoencoderTransformer(hidden_layer_sizes=(16,), activation="tanh",
                                 solver="sgd", max_iter=5, random_state=0)
    _, record = _stuck(est, X_DIGITS)
    assert _messages(record, "16 of the 16 tanh units of hidden layer 1")


# -- messages that name the argument --------------------------------------------

def _fit_with(**validation):
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    validation = {"X_val": X_VAL, "y_val": Y_VAL} | validation
    return clf.fit(X_TRAIN, Y_TRAIN, **validation)


@pytest.mark.parametrize("validation, message", [
    (dict(y_val=np.r_[Y_VAL[:-1], 42]), r"^y_val contains labels not seen.*\[42\]"),
    (dict(X_val=X_VAL[:, :10]), r"^X_val has 10 features, but MLPClassifier"),
    (dict(X_val=np.where(np.eye(300, 64, dtype=bool), np.nan, X_VAL)),
     r"Input X_val contains NaN"),
    (dict(sample_weight_val=np.ones(3)), r"sample_weight_val\.shape == \(3,\)"),
    (dict(sample_weight_val=-np.ones(300)), r"`sample_weight_val`"),
    (dict(sample_weight_val=np.zeros(300)), r"^sample_weight_val must contain"),
])
def test_validation_errors_name_the_validation_argument(validation, message):
    with pytest.raises(ValueError, match=message):
        _fit_with(**validation)


def test_regressor_validation_targets_are_named():
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    y = X_TRAIN[:, 10]
    with pytest.raises(ValueError, match="^Input y_val contains NaN"):
        reg.fit(X_TRAIN, y, X_val=X_VAL, y_val=np.full(300, np.nan))


def test_divergence_error_shows_its_public_module():
    assert DivergenceError.__module__ == "sknets.exceptions"
    text = "".join(traceback.format_exception_only(DivergenceError("boom")))
    assert text.startswith("sknets.exceptions.DivergenceError: boom")
    assert isinstance(pickle.loads(pickle.dumps(DivergenceError("x"))),
                      DivergenceError)


# -- warnings at the user's line ------------------------------------------------

def _not_converged(est, *args, **kwargs):
    _, record = _recorded(est.fit, *args, **kwargs)
    return [w for w in record if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("make", [
    lambda: MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
    lambda: make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=2, random_state=0)),
    lambda: GridSearchCV(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2,
                                       random_state=0),
                         {"alpha": [1e-4]}, cv=2),
])
def test_warnings_point_at_the_users_call(make):
    record = _not_converged(make(), X_STD, Y_DIGITS)
    assert record
    assert {w.filename for w in record} == {__file__}


def test_other_warnings_point_at_the_users_call_too():
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, batch_size=5000,
                        warm_start=True, random_state=0)
    _, record = _recorded(clf.fit, X_STD, Y_DIGITS)
    assert _messages(record, "batch_size")
    clf.set_params(hidden_layer_sizes=(5,))
    _, more = _recorded(clf.fit, X_STD, Y_DIGITS)
    assert _messages(more, "warm_start=True but the network changed")
    assert {w.filename for w in record + more} == {__file__}


# -- no false alarms, no wrong words (found in review) ---------------------------

def _one_hot(rng, n, k):
    codes = np.zeros((n, k))
    codes[np.arange(n), rng.integers(0, k, n)] = 1
    return np.hstack([codes, rng.normal(size=(n, 3))])


@pytest.mark.parametrize("k, n_val", [(100, 40), (300, 200), (1000, 500)])
def test_one_hot_validation_data_of_the_same_distribution_does_not_warn(k, n_val):
    # Rare categories absent from the validation rows have no spread there:
    # they must not count as "another scale".
    from sknets._base import _warn_if_rescaled

    rng = np.random.default_rng(0)
    _, record = _recorded(_warn_if_rescaled, _one_hot(rng, 5 * n_val, k),
                          _one_hot(rng, n_val, k))
    assert not record


def test_sparse_word_counts_of_the_same_distribution_do_not_warn():
    import scipy.sparse as sp

    from sknets._base import _warn_if_rescaled

    rng = np.random.default_rng(0)
    p = 1 / np.arange(1, 3001) ** 1.1
    p = np.minimum(30 * p / p.sum(), 1)

    def counts(n):
        return sp.csr_matrix((rng.random((n, 3000)) < p)
                             * rng.poisson(2, (n, 3000)).astype(float))

    for n_val in (50, 1000):
        _, record = _recorded(_warn_if_rescaled, counts(3000), counts(n_val))
        assert not record, n_val


def test_renamed_messages_leave_labels_alone():
    X = X_STD[:200]
    y = np.where(Y_DIGITS[:200] % 2 == 0, "n", "y")
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    with pytest.raises(ValueError, match=r"^y_val contains .*\['n', 'y'\]\)"):
        clf.fit(X, y, X_val=X[:10], y_val=np.array(["maybe"] * 10))


def test_a_warm_start_that_ends_at_the_floor_is_reported_as_such():
    clf = _recipe(warm_start=True)
    clf.set_params(learning_rate_init=0.1)
    _recorded(clf.fit, X_STD, Y_DIGITS)
    report = training_report(clf)
    assert "learning_rate_floor" in report.codes
    assert "early_stopped" not in report.codes


def test_partial_fit_after_a_validated_fit_reports_no_stop():
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0,
                        n_iter_no_change=3)
    _recorded(clf.fit, X_STD[:1200], Y_DIGITS[:1200],
              X_val=X_STD[1200:], y_val=Y_DIGITS[1200:])
    for _ in range(30):
        _recorded(clf.partial_fit, X_STD, Y_DIGITS)
    codes = training_report(clf).codes
    assert "early_stopped" not in codes and "wasted_epochs" not in codes


@pytest.mark.parametrize("y_type, unlabeled", [
    (lambda y: y.astype("S"), "-1"), (lambda y: y >= 0, -1),
    (lambda y: y.astype(float), float("nan")),
])
def test_unlabeled_labels_that_can_never_match_are_refused(y_type, unlabeled):
    X, y = _semi_supervised_data()
    with pytest.raises(ValueError, match="unlabeled_label|bytes"):
        _pretrained(unlabeled_label=unlabeled).fit(X, y_type(y))
