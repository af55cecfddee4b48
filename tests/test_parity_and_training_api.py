"""scikit-learn parity and the training API of sknets' MLP estimators.

Parameters and fitted attributes shared with scikit-learn's MLPs, partial_fit,
warm_start, sample and class weights, L-BFGS, multi-output targets, Ctrl-C,
and a few guarded corner cases. Small data and small networks throughout.
"""

import inspect
import numbers
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, r2_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from threadpoolctl import threadpool_limits

import sknets._base
import sknets._engine.network
from sknets import MLPClassifier, MLPRegressor
from sknets._engine.layers import INFERENCE, BatchNorm
from sknets._engine.optimizers import SGD, Adagrad, Adam
from sknets.exceptions import DivergenceError

# --------------------------------------------------------------------------
# data and helpers
# --------------------------------------------------------------------------

PAIRS = {
    "classifier": (MLPClassifier, SkMLPClassifier),
    "regressor": (MLPRegressor, SkMLPRegressor),
}


@pytest.fixture(scope="module", autouse=True)
def single_threaded_blas():
    """One BLAS thread: the matrices are tiny and BLAS threads only add noise."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def digits():
    """Digits split in train and test, standardised on the training part."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def classification_data(n_samples=300):
    X, y = load_digits(return_X_y=True)
    return X[:n_samples] / 16.0, y[:n_samples]


def regression_data(n_samples=300, n_targets=1):
    X, y = make_regression(n_samples=n_samples, n_features=5, n_informative=5,
                           n_targets=n_targets, noise=1.0, random_state=0)
    return X, (y - y.mean(axis=0)) / y.std(axis=0)


def data_for(kind, n_samples=300):
    return (classification_data if kind == "classifier" else regression_data)(
        n_samples
    )


def small(kind="classifier", **params):
    defaults = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0,
                    learning_rate_init=0.01)
    defaults.update(params)
    return PAIRS[kind][0](**defaults)


def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def output(est, X):
    """predict_proba for classifiers, predict for regressors."""
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def spy_on_split(monkeypatch):
    """Record the (train, validation) indices of the internal split."""
    split = {}
    real_split = sknets._base.train_test_split

    def spy(*args, **kwargs):
        split["train"], split["val"] = real_split(*args, **kwargs)
        return split["train"], split["val"]

    monkeypatch.setattr(sknets._base, "train_test_split", spy)
    return split


def record_optimizer_state_at_each_step(monkeypatch, optimizer_cls, *attrs):
    """Patch ``optimizer_cls.step`` to record copies of ``attrs`` before each step."""
    seen = []
    real_step = optimizer_cls.step

    def step(self, theta, grad, learning_rate, **kwargs):
        seen.append({a: np.copy(getattr(self, a)) for a in attrs})
        return real_step(self, theta, grad, learning_rate, **kwargs)

    monkeypatch.setattr(optimizer_cls, "step", step)
    return seen


def docstring_sections(doc):
    """``[(section title, [documented names])]`` of a numpydoc docstring."""
    lines = inspect.cleandoc(doc).splitlines()
    sections = []
    for i, line in enumerate(lines):
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and underline and set(underline) == {"-"}:
            sections.append((line.strip(), []))
            continue
        # An entry starts unindented: "name : type" or "name1, name2 : type".
        entry = re.match(r"(\w+(?:, \w+)*) :", line)
        if sections and entry:
            sections[-1][1].extend(entry.group(1).split(", "))
    return sections


SKLEARN_ATTRIBUTES = {
    kind: dict(docstring_sections(sk.__doc__))["Attributes"]
    for kind, (_, sk) in PAIRS.items()
}


# --------------------------------------------------------------------------
# a. parity with scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", PAIRS)
def test_every_sklearn_parameter_exists_with_the_same_default(kind):
    ours, theirs = PAIRS[kind]
    our_params = ours().get_params()
    their_params = theirs().get_params()
    assert len(their_params) >= 23
    for name, default in their_params.items():
        assert name in our_params, name
        assert type(our_params[name]) is type(default), name
        assert our_params[name] == default, name


@pytest.mark.parametrize("kind", PAIRS)
def test_positional_parameters_are_sklearns_in_the_same_order(kind):
    ours, theirs = PAIRS[kind]

    def positional(cls):
        return [p.name for p in inspect.signature(cls).parameters.values()
                if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]

    if kind == "regressor" and "loss" not in positional(theirs):
        # scikit-learn 1.7 put `loss` first (with the Poisson loss); sknets
        # follows the newest signature.
        assert positional(ours) == ["loss", *positional(theirs)]
        return
    assert positional(ours) == positional(theirs)


def test_sklearn_documents_the_expected_attributes():
    expected = {"loss_", "best_loss_", "loss_curve_", "validation_scores_",
                "best_validation_score_", "t_", "coefs_", "intercepts_",
                "n_features_in_", "feature_names_in_", "n_iter_", "n_layers_",
                "n_outputs_", "out_activation_"}
    assert set(SKLEARN_ATTRIBUTES["classifier"]) == expected | {"classes_"}
    assert set(SKLEARN_ATTRIBUTES["regressor"]) == expected


@pytest.mark.parametrize("kind", PAIRS)
def test_docstring_documents_parameters_and_attributes_in_their_sections(kind):
    ours, _ = PAIRS[kind]
    sections = docstring_sections(ours.__doc__)
    documented = {}
    for title, names in sections:
        documented.setdefault(title, []).extend(names)
    params = set(ours().get_params())
    # Every constructor parameter is documented as a parameter, and none is
    # listed among the fitted attributes.
    assert params - set(documented["Parameters"]) == set()
    assert params & set(documented["Attributes"]) == set()
    # Every attribute scikit-learn documents is documented here too.
    assert set(SKLEARN_ATTRIBUTES[kind]) <= set(documented["Attributes"])
    titles = [title for title, _ in sections]
    assert titles.count("Parameters") == titles.count("Attributes") == 1


@pytest.mark.numerics
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", PAIRS)
def test_fitted_attributes_match_sklearns_in_type_shape_and_meaning(
    kind, solver, early_stopping
):
    pd = pytest.importorskip("pandas")
    X, y = data_for(kind)
    X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    params = dict(hidden_layer_sizes=(16, 8), solver=solver, max_iter=15,
                  learning_rate_init=0.01, early_stopping=early_stopping,
                  random_state=0)
    ours = fit_quietly(PAIRS[kind][0](**params), X, y)
    theirs = fit_quietly(PAIRS[kind][1](**params), X, y)
    n_train = len(X) - 30 if early_stopping else len(X)

    for name in SKLEARN_ATTRIBUTES[kind]:
        assert hasattr(theirs, name), name
        assert hasattr(ours, name), name

    for est in (ours, theirs):
        if kind == "classifier":
            assert_array_equal(est.classes_, np.unique(y))
        assert_array_equal(est.feature_names_in_, X.columns)
        assert est.n_features_in_ == X.shape[1]
        assert isinstance(est.n_iter_, numbers.Integral)
        assert 1 <= est.n_iter_ <= 15
        assert isinstance(est.loss_curve_, list)
        assert len(est.loss_curve_) == est.n_iter_
        assert all(isinstance(v, float) for v in est.loss_curve_)
        assert isinstance(est.loss_, float) and est.loss_ == est.loss_curve_[-1]
        assert est.t_ == est.n_iter_ * n_train
        if early_stopping:
            assert est.best_loss_ is None
            assert isinstance(est.validation_scores_, list)
            assert len(est.validation_scores_) == est.n_iter_
            assert est.best_validation_score_ == max(est.validation_scores_)
            if kind == "classifier":  # accuracies
                assert all(0 <= s <= 1 for s in est.validation_scores_)
        else:
            assert est.validation_scores_ is None
            assert est.best_validation_score_ is None
            assert est.best_loss_ == min(est.loss_curve_)

    assert ours.n_layers_ == theirs.n_layers_ == 4
    assert ours.n_outputs_ == theirs.n_outputs_
    assert ours.out_activation_ == theirs.out_activation_
    for attr in ("coefs_", "intercepts_"):
        ours_list, theirs_list = getattr(ours, attr), getattr(theirs, attr)
        assert isinstance(ours_list, list)
        assert [a.shape for a in ours_list] == [a.shape for a in theirs_list]
        assert all(isinstance(a, np.ndarray) for a in ours_list)
    # Same loss (and meaning): after the same number of epochs on the same
    # data, both libraries' training losses are of the same size.
    assert 0.3 < ours.loss_curve_[0] / theirs.loss_curve_[0] < 3


@pytest.mark.parametrize("kind", PAIRS)
def test_lbfgs_loss_is_the_same_quantity_as_sklearns(kind):
    X, y = data_for(kind, 200)
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", alpha=0.0, max_iter=30,
                  random_state=0)
    ours = fit_quietly(PAIRS[kind][0](dtype="float64", **params), X, y)
    theirs = fit_quietly(PAIRS[kind][1](**params), X, y)
    for est in (ours, theirs):
        assert isinstance(est.n_iter_, numbers.Integral) and est.n_iter_ <= 30
        if kind == "classifier":
            expected = log_loss(y, est.predict_proba(X))
        else:
            expected = 0.5 * np.mean((y - est.predict(X)) ** 2)
        assert est.loss_ == pytest.approx(expected, rel=1e-6)
    assert [w.shape for w in ours.coefs_] == [w.shape for w in theirs.coefs_]
    assert ours.out_activation_ == theirs.out_activation_


# --------------------------------------------------------------------------
# b. partial_fit
# --------------------------------------------------------------------------


@pytest.mark.numerics
@pytest.mark.parametrize("solver, rate", [("sgd", 0.05), ("adam", 0.005)])
def test_partial_fit_in_chunks_matches_fit_accuracy(digits, solver, rate):
    X_tr, X_te, y_tr, y_te = digits
    # batch_size 'auto': 200 rows, one step per chunk.
    params = dict(hidden_layer_sizes=(32,), solver=solver, learning_rate_init=rate,
                  random_state=0)
    passes = 10
    full = fit_quietly(MLPClassifier(max_iter=passes, **params), X_tr, y_tr)
    streamed = MLPClassifier(**params)
    classes = np.unique(y_tr)
    for _ in range(passes):
        for start in range(0, len(X_tr), 200):
            streamed.partial_fit(X_tr[start : start + 200], y_tr[start : start + 200],
                                 classes=classes)
    assert full.score(X_te, y_te) > 0.9
    assert abs(streamed.score(X_te, y_te) - full.score(X_te, y_te)) <= 0.03


def test_partial_fit_first_call_needs_classes():
    X, y = classification_data(100)
    clf = small()
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_partial_fit_refuses_labels_outside_classes():
    X, y = classification_data(100)
    classes = np.arange(10)
    with pytest.raises(ValueError, match="not seen"):
        small().partial_fit(X, np.where(y == 3, 11, y), classes=classes)
    clf = small().partial_fit(X[:50], y[:50], classes=classes)
    # y need not contain every class...
    clf.partial_fit(X[50:][y[50:] < 5], y[50:][y[50:] < 5])
    proba = clf.predict_proba(X)
    assert proba.shape == (100, 10)
    # ...but a label outside them is refused, and the model is unchanged.
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X[:10], np.full(10, 12))
    assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("kind", PAIRS)
def test_partial_fit_is_not_available_with_lbfgs(kind):
    est = small(kind, solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        est.partial_fit  # noqa: B018
    assert hasattr(small(kind, solver="sgd"), "partial_fit")


@pytest.mark.parametrize(
    "solver, optimizer_cls, attrs",
    [("sgd", SGD, ("velocity",)), ("adam", Adam, ("m", "v")),
     ("adagrad", Adagrad, ("sum_sq",))],
)
def test_partial_fit_continues_the_optimizer_state(
    monkeypatch, solver, optimizer_cls, attrs
):
    X, y = classification_data(300)
    classes = np.unique(y)
    clf = small(solver=solver, batch_size=50)
    clf.partial_fit(X[:150], y[:150], classes=classes)
    state = {a: getattr(clf._train_state["optimizer"], a).copy() for a in attrs}
    for value in state.values():
        assert np.any(value != 0)
    # The next call starts from exactly that state...
    seen = record_optimizer_state_at_each_step(monkeypatch, optimizer_cls, *attrs)
    continued = clone(clf).partial_fit(X[:150], y[:150], classes=classes)
    seen.clear()
    continued.partial_fit(X[150:], y[150:])
    for a in attrs:
        assert_array_equal(seen[0][a], state[a])
    # ...and it matters: forgetting it between the calls gives another model.
    reset = clone(clf).partial_fit(X[:150], y[:150], classes=classes)
    reset._train_state["optimizer"].reset()
    reset.partial_fit(X[150:], y[150:])
    assert not np.allclose(reset.predict_proba(X), continued.predict_proba(X))


@pytest.mark.parametrize("kind", PAIRS)
def test_partial_fit_runs_one_epoch_per_call_and_counts_samples(kind):
    X, y = data_for(kind, 300)
    est = small(kind, solver="sgd")
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    t = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for call, size in enumerate([100, 70, 130, 100], start=1):
            start = (call - 1) * 50
            est.partial_fit(X[start : start + size], y[start : start + size], **extra)
            t += size
            assert est.n_iter_ == 1
            assert est.t_ == t
            assert len(est.loss_curve_) == call
            assert est.validation_scores_ is None


def test_partial_fit_with_balanced_class_weight_is_refused():
    X, y = classification_data(100)
    with pytest.raises(ValueError, match="balanced"):
        small(class_weight="balanced").partial_fit(X, y, classes=np.arange(10))
    # A dict of weights is fine.
    small(class_weight={0: 2.0}).partial_fit(X, y, classes=np.arange(10))


@pytest.mark.numerics
def test_regressor_partial_fit_learns():
    X, y = regression_data(300)
    reg = small("regressor", solver="sgd")
    for _ in range(30):
        for start in range(0, 300, 100):
            reg.partial_fit(X[start : start + 100], y[start : start + 100])
    assert reg.score(X, y) > 0.9


@pytest.mark.numerics
def test_partial_fit_continues_a_model_fitted_with_lbfgs():
    # After an lbfgs fit there is no optimiser state to continue: switching to
    # a stochastic solver, partial_fit must start one (not crash).
    X, y = classification_data(300)
    clf = fit_quietly(small(solver="lbfgs", max_iter=50), X, y)
    accuracy = clf.score(X, y)
    clf.set_params(solver="sgd", learning_rate_init=1e-4)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and clf.t_ == 300
    assert clf.score(X, y) >= accuracy - 0.05  # continued, not restarted


# --------------------------------------------------------------------------
# c. warm_start
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "solver, optimizer_cls, attrs",
    [("sgd", SGD, ("velocity",)), ("adam", Adam, ("m", "v")),
     ("adagrad", Adagrad, ("sum_sq",))],
)
def test_warm_start_continues_the_curve_and_the_optimizer_state(
    monkeypatch, solver, optimizer_cls, attrs
):
    X, y = classification_data(300)
    clf = fit_quietly(small(solver=solver, warm_start=True, max_iter=4), X, y)
    curve = list(clf.loss_curve_)
    state = {a: getattr(clf._train_state["optimizer"], a).copy() for a in attrs}
    n_steps = clf._train_state["optimizer"].n_steps
    seen = record_optimizer_state_at_each_step(monkeypatch, optimizer_cls, *attrs)
    fit_quietly(clf, X, y)
    assert clf.loss_curve_[:4] == curve and len(clf.loss_curve_) == 8
    assert clf.n_iter_ == 4
    for a in attrs:
        assert_array_equal(seen[0][a], state[a])
    assert clf._train_state["optimizer"].n_steps == 2 * n_steps


@pytest.mark.parametrize("new_solver, new_cls", [("adam", Adam), ("adagrad", Adagrad)])
def test_warm_start_with_a_changed_solver_gets_a_fresh_optimizer(
    monkeypatch, new_solver, new_cls
):
    X, y = classification_data(300)
    clf = fit_quietly(small(solver="sgd", warm_start=True, max_iter=3), X, y)
    clf.set_params(solver=new_solver)
    attr = "m" if new_cls is Adam else "sum_sq"
    seen = record_optimizer_state_at_each_step(monkeypatch, new_cls, attr)
    fit_quietly(clf, X, y)
    assert type(clf._train_state["optimizer"]) is new_cls
    assert not np.any(seen[0][attr])
    assert len(clf.loss_curve_) == 6  # the weights did carry over
    # Back to sgd: a new, zero velocity, not the one from the first fit.
    clf.set_params(solver="sgd")
    seen = record_optimizer_state_at_each_step(monkeypatch, SGD, "velocity")
    fit_quietly(clf, X, y)
    assert not np.any(seen[0]["velocity"])


@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad"])
def test_warm_start_uses_a_changed_learning_rate_init(solver):
    X, y = classification_data(300)
    clf = fit_quietly(small(solver=solver, warm_start=True, max_iter=3,
                            learning_rate_init=0.01), X, y)
    clf.set_params(learning_rate_init=0.002, momentum=0.5)
    fit_quietly(clf, X, y)
    rates = [h["learning_rate"] for h in clf.history_]
    assert rates == [0.01] * 3 + [0.002] * 3
    if solver == "sgd":
        assert clf._train_state["optimizer"].momentum == 0.5


@pytest.mark.parametrize(
    "change", [dict(batch_norm=True), dict(hidden_layer_sizes=(8,)),
               dict(activation="tanh"), dict(dtype="float64")],
    ids=["batch_norm", "shape", "activation", "dtype"],
)
def test_warm_start_with_a_changed_network_warns_and_starts_fresh(change):
    X, y = classification_data(300)
    clf = fit_quietly(small(warm_start=True, max_iter=3), X, y)
    clf.set_params(**change)
    with pytest.warns(UserWarning, match="warm_start"):
        fit_quietly(clf, X, y)
    assert len(clf.loss_curve_) == clf.n_iter_ == 3
    fresh = fit_quietly(small(max_iter=3, **change), X, y)
    assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))
    assert clf.loss_curve_ == fresh.loss_curve_


def test_warm_start_with_different_classes_is_refused():
    X, y = classification_data(300)
    clf = fit_quietly(small(warm_start=True, max_iter=3), X, y)
    proba = clf.predict_proba(X)
    for y_new in (np.where(y == 9, 8, y), np.where(y == 9, 10, y)):
        with pytest.raises(ValueError, match="warm_start"):
            clf.fit(X, y_new)
    assert_array_equal(clf.predict_proba(X), proba)
    assert_array_equal(clf.classes_, np.arange(10))


# --------------------------------------------------------------------------
# d. sample_weight
# --------------------------------------------------------------------------


def weighted_problem(kind, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 4))
    score = X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=60)
    y = np.digitize(score, [-0.5, 0.5]) if kind == "classifier" else score
    weights = rng.integers(0, 3, size=60)  # 0 drops a row, 2 repeats it
    return X, y, weights


@pytest.mark.parametrize(
    "params",
    [dict(solver="lbfgs", max_iter=50),
     dict(solver="sgd", shuffle=False, max_iter=30, learning_rate_init=0.1),
     dict(solver="adam", shuffle=False, max_iter=30, batch_norm=True)],
    ids=["lbfgs", "full-batch-sgd", "full-batch-adam-batch-norm"],
)
@pytest.mark.parametrize("kind", PAIRS)
def test_integer_sample_weight_equals_repeating_rows(kind, params):
    X, y, w = weighted_problem(kind)
    X_rep, y_rep = np.repeat(X, w, axis=0), np.repeat(y, w)
    assert len(X_rep) <= 200  # 'auto' batches are the whole data set
    weighted = fit_quietly(small(kind, dtype="float64", **params), X, y,
                           sample_weight=w)
    repeated = fit_quietly(small(kind, dtype="float64", **params), X_rep, y_rep)
    assert_allclose(output(weighted, X), output(repeated, X), rtol=1e-6,
                    atol=1e-10)
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-6)


def test_validation_split_and_score_use_the_sample_weights(monkeypatch):
    X, y = classification_data(300)
    split = spy_on_split(monkeypatch)
    w = np.where(y == 3, 0.0, 1.0)
    params = dict(early_stopping=True, validation_fraction=0.3, max_iter=15)
    weighted = fit_quietly(small(**params), X, y, sample_weight=w)
    val = split["val"]
    pred = weighted.predict(X[val])
    assert weighted.best_validation_score_ == pytest.approx(
        accuracy_score(y[val], pred, sample_weight=w[val]), abs=1e-12
    )
    # The zero-weight class was never learned, yet it does not count against
    # the validation score.
    assert accuracy_score(y[val], pred) < weighted.best_validation_score_
    unweighted = fit_quietly(small(**params), X, y)
    assert unweighted.best_validation_score_ != weighted.best_validation_score_


def test_validation_set_of_zero_total_weight_is_refused(monkeypatch):
    X, y = classification_data(200)
    with pytest.raises(ValueError, match="zero"):
        small().fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:],
                    sample_weight_val=np.zeros(50))
    # The internal split: all held-out rows happen to have zero weight.
    w = np.r_[np.ones(150), np.zeros(50)]
    monkeypatch.setattr(sknets._base, "train_test_split",
                        lambda idx, **kw: (idx[:150], idx[150:]))
    clf = small(early_stopping=True, validation_fraction=0.25)
    with pytest.raises(ValueError, match="sum to zero"):
        clf.fit(X, y, sample_weight=w)
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize("kind", PAIRS)
def test_sample_weight_val_weights_the_validation_score(kind):
    X, y = data_for(kind, 300)
    X_tr, y_tr, X_val, y_val = X[:200], y[:200], X[200:], y[200:]
    w_val = np.random.default_rng(0).uniform(0, 1, 100) ** 4
    est = small(kind, max_iter=10)
    plain = fit_quietly(clone(est), X_tr, y_tr, X_val=X_val, y_val=y_val)
    weighted = fit_quietly(clone(est), X_tr, y_tr, X_val=X_val, y_val=y_val,
                           sample_weight_val=w_val)
    assert weighted.best_validation_score_ != plain.best_validation_score_
    for model, weights in ((plain, None), (weighted, w_val)):
        assert model.best_validation_score_ == pytest.approx(
            model.score(X_val, y_val, sample_weight=weights), abs=1e-6
        )


# --------------------------------------------------------------------------
# e. class_weight
# --------------------------------------------------------------------------


def imbalanced_problem(seed=0):
    X, y = make_classification(n_samples=1000, n_features=6, n_informative=3,
                               weights=[0.9, 0.1], class_sep=0.5, flip_y=0.02,
                               random_state=seed)
    return train_test_split(X, y, stratify=y, random_state=0)


@pytest.mark.numerics
def test_balanced_class_weight_improves_minority_recall():
    X_tr, X_te, y_tr, y_te = imbalanced_problem()
    params = dict(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01,
                  random_state=0)
    plain = fit_quietly(MLPClassifier(**params), X_tr, y_tr)
    balanced = fit_quietly(MLPClassifier(class_weight="balanced", **params),
                           X_tr, y_tr)
    plain_recall = recall_score(y_te, plain.predict(X_te))
    balanced_recall = recall_score(y_te, balanced.predict(X_te))
    assert balanced_recall > plain_recall + 0.2


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 4.0}])
def test_class_weight_is_the_same_as_the_matching_sample_weight(class_weight):
    X_tr, _, y_tr, _ = imbalanced_problem()
    weights = compute_class_weight(class_weight, classes=np.array([0, 1]), y=y_tr)
    by_class = fit_quietly(small(class_weight=class_weight), X_tr, y_tr)
    by_sample = fit_quietly(small(), X_tr, y_tr, sample_weight=weights[y_tr])
    assert_array_equal(by_class.predict_proba(X_tr), by_sample.predict_proba(X_tr))
    # Multiplied into a given sample_weight.
    sw = np.random.default_rng(0).uniform(0.5, 1.5, len(y_tr))
    both = fit_quietly(small(class_weight=class_weight), X_tr, y_tr, sample_weight=sw)
    product = fit_quietly(small(), X_tr, y_tr, sample_weight=sw * weights[y_tr])
    assert_allclose(both.predict_proba(X_tr), product.predict_proba(X_tr),
                    rtol=1e-6)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 2.0}])
def test_class_weight_with_multilabel_targets_is_refused(class_weight):
    X, y = classification_data(100)
    Y = np.column_stack([y % 2, y >= 5]).astype(int)
    with pytest.raises(ValueError, match="multilabel"):
        small(class_weight=class_weight).fit(X, Y)


def test_balanced_class_weight_is_recomputed_when_refitting_on_new_labels():
    # fit twice on different labels: the second model must be the same as a
    # fresh estimator's on those labels.
    X_tr, _, y_tr, _ = imbalanced_problem()
    y_other = (X_tr[:, 0] > 1.0).astype(int)  # another imbalance
    clf = small(class_weight="balanced")
    fit_quietly(clf, X_tr, y_tr)
    fit_quietly(clf, X_tr, y_other)
    fresh = fit_quietly(small(class_weight="balanced"), X_tr, y_other)
    assert_array_equal(clf.predict_proba(X_tr), fresh.predict_proba(X_tr))


def test_balanced_class_weight_refit_with_more_classes_works():
    X, y = classification_data(300)
    clf = small(class_weight="balanced")
    fit_quietly(clf, X, (y >= 5).astype(int))
    fit_quietly(clf, X, y)  # ten classes now
    assert clf.predict_proba(X).shape == (300, 10)


@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 1.0, 1: 2.0}])
def test_unseen_validation_labels_are_refused_with_a_value_error(class_weight):
    X_tr, X_te, y_tr, _ = imbalanced_problem()
    clf = small(class_weight=class_weight)
    with pytest.raises(ValueError, match="not seen"):
        clf.fit(X_tr, y_tr, X_val=X_te[:20], y_val=np.full(20, 5))


# --------------------------------------------------------------------------
# f. L-BFGS
# --------------------------------------------------------------------------


def test_lbfgs_converges_on_a_tiny_separable_problem():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 0.5, size=(10, 2)), rng.normal(2, 0.5, size=(10, 2))]
    y = np.r_[np.zeros(10, int), np.ones(10, int)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=2000,
                            random_state=0).fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.n_iter_ < 2000
    assert clf.loss_curve_ == [clf.loss_]


@pytest.mark.parametrize("kind", PAIRS)
def test_lbfgs_refuses_a_validation_set(kind):
    X, y = data_for(kind, 100)
    est = small(kind, solver="lbfgs")
    with pytest.raises(ValueError, match="lbfgs"):
        est.fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    assert not hasattr(est, "coefs_")


# --------------------------------------------------------------------------
# g. multilabel and multi-output
# --------------------------------------------------------------------------


def multilabel_problem():
    X, y = classification_data(300)
    return X, np.column_stack([y % 2 == 0, y >= 5, y % 3 == 0]).astype(int)


@pytest.mark.numerics
@pytest.mark.parametrize("params", [dict(), dict(early_stopping=True),
                                    dict(solver="lbfgs")],
                         ids=["adam", "early-stopping", "lbfgs"])
def test_multilabel_classifier_end_to_end(params):
    X, Y = multilabel_problem()
    clf = fit_quietly(small(**{"max_iter": 60, **params}), X, Y)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 3
    assert_array_equal(clf.classes_, [0, 1, 2])
    pred = clf.predict(X)
    assert pred.shape == (300, 3) and set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    assert_array_equal(pred, (proba > 0.5).astype(int))
    # Subset accuracy, measured 0.61-1.0 over 4 BLAS kernels and 10 seeds;
    # a constant majority prediction scores 0.20.
    assert clf.score(X, Y) == accuracy_score(Y, pred) > 0.45


def test_multilabel_partial_fit_works_like_sklearns():
    X, Y = multilabel_problem()
    theirs = SkMLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    theirs.partial_fit(X, Y, classes=np.arange(3))
    ours = small()
    ours.partial_fit(X, Y, classes=np.arange(3))
    ours.partial_fit(X, Y)
    assert ours.predict_proba(X).shape == (300, 3)
    assert ours.predict(X).shape == (300, 3)


@pytest.mark.numerics
@pytest.mark.parametrize("params", [dict(), dict(early_stopping=True),
                                    dict(solver="lbfgs"), dict(batch_norm=True)],
                         ids=["adam", "early-stopping", "lbfgs", "batch-norm"])
def test_multi_output_regressor_end_to_end(params):
    X, Y = regression_data(300, n_targets=3)
    reg = fit_quietly(small("regressor", **{"max_iter": 100, **params}), X, Y)
    assert reg.n_outputs_ == 3 and reg.out_activation_ == "identity"
    pred = reg.predict(X)
    assert pred.shape == (300, 3)
    assert reg.score(X, Y) == pytest.approx(r2_score(Y, pred), rel=1e-6)
    assert reg.score(X, Y) > 0.9
    if params.get("solver") == "lbfgs" or params.get("early_stopping"):
        # As scikit-learn: no partial_fit for lbfgs or with early stopping.
        assert not hasattr(reg, "partial_fit")
    else:
        reg.partial_fit(X[:50], Y[:50])
        assert reg.predict(X[:7]).shape == (7, 3)


# --------------------------------------------------------------------------
# h. Ctrl-C during training
# --------------------------------------------------------------------------


def interrupt_at_step(monkeypatch, n):
    """Make the n-th SGD step raise KeyboardInterrupt, as Ctrl-C would."""
    calls = {"n": 0}
    real_step = SGD.step

    def step(self, theta, grad, learning_rate, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real_step(self, theta, grad, learning_rate, **kwargs)

    monkeypatch.setattr(SGD, "step", step)
    return calls


@pytest.mark.parametrize("completed", [0, 3])
@pytest.mark.parametrize("kind", PAIRS)
def test_ctrl_c_reraises_and_leaves_a_usable_model(monkeypatch, kind, completed):
    X, y = data_for(kind, 300)
    # batch_size 100: three steps per epoch; interrupt in the middle of the next.
    interrupt_at_step(monkeypatch, 3 * completed + 2)
    est = small(kind, solver="sgd", batch_size=100, max_iter=50)
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
    assert est.n_iter_ == completed
    assert len(est.loss_curve_) == completed
    assert est.t_ == completed * 300
    for arr in est.coefs_ + est.intercepts_:
        assert np.all(np.isfinite(arr))
    out = output(est, X)
    assert out.shape[0] == 300 and np.all(np.isfinite(out))
    est.score(X, y)
    # It can go on training afterwards.
    monkeypatch.undo()
    fit_quietly(est.set_params(max_iter=2), X, y)
    assert est.n_iter_ == 2


@pytest.mark.parametrize("validation", ["given", "internal"])
def test_ctrl_c_with_validation_keeps_the_best_epoch(monkeypatch, validation):
    X, y = classification_data(300)
    clf = small(solver="sgd", batch_size=100, learning_rate_init=0.3, max_iter=50)
    if validation == "given":
        X_val, y_val = X[200:], y[200:]
        fit_args, fit_kwargs = (X[:200], y[:200]), dict(X_val=X_val, y_val=y_val)
    else:
        split = spy_on_split(monkeypatch)
        clf.set_params(early_stopping=True, validation_fraction=1 / 3)
        fit_args, fit_kwargs = (X, y), {}
    interrupt_at_step(monkeypatch, 2 * 8 + 1)  # two steps per epoch
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            clf.fit(*fit_args, **fit_kwargs)
    if validation == "internal":
        X_val, y_val = X[split["val"]], y[split["val"]]
        assert len(X_val) == 100
    assert clf.n_iter_ == len(clf.validation_scores_) == 8
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # The constructed case: the last completed epoch is not the best one.
    assert clf.validation_scores_[-1] < clf.best_validation_score_
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_,
                                                    abs=1e-12)


def test_ctrl_c_in_partial_fit_keeps_the_previous_epochs(monkeypatch):
    X, y = classification_data(300)
    clf = small(solver="sgd", batch_size=100)
    clf.partial_fit(X, y, classes=np.arange(10))
    interrupt_at_step(monkeypatch, 2)
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            clf.partial_fit(X, y)
    assert clf.t_ == 300 and len(clf.loss_curve_) == 1
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_ctrl_c_during_the_validation_pass_keeps_the_epoch_counts_consistent(
    monkeypatch,
):
    # Ctrl-C can land while an epoch's validation set is being scored: that
    # epoch is then either counted everywhere or nowhere.
    X, y = classification_data(300)
    calls = {"n": 0}
    real_evaluate = sknets._engine.network.Network.evaluate

    def evaluate(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_evaluate(self, *args, **kwargs)

    monkeypatch.setattr(sknets._engine.network.Network, "evaluate", evaluate)
    clf = small(solver="sgd", max_iter=20)
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    assert clf.n_iter_ in (2, 3)
    assert len(clf.loss_curve_) == len(clf.validation_scores_) == clf.n_iter_
    assert len(clf.history_) == clf.n_iter_
    assert clf.t_ == 200 * clf.n_iter_


# --------------------------------------------------------------------------
# i. guarded corner cases
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", PAIRS)
def test_assigning_into_coefs_and_intercepts_changes_the_model(kind):
    X, y = data_for(kind, 100)
    est = fit_quietly(small(kind, max_iter=5), X, y)
    before = output(est, X)
    est.coefs_[0] = np.zeros_like(est.coefs_[0])
    after = output(est, X)
    assert not np.allclose(after, before)
    # With no first-layer weights every row gets the same output.
    assert_allclose(after, np.broadcast_to(after[0], after.shape), atol=1e-6)
    shifted = est.intercepts_[-1].copy()
    shifted[0] += 5.0  # the first class (or output) only
    est.intercepts_[-1] = shifted
    assert not np.allclose(output(est, X), after)
    with pytest.raises(ValueError, match="shape"):
        est.coefs_[0] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="shape"):
        est.intercepts_[0] = np.zeros(17)
    # Assigning whole lists goes through the same checks.
    est.coefs_ = [np.ones_like(w) * 0.01 for w in est.coefs_]
    assert_allclose(est.coefs_[1], 0.01)
    with pytest.raises(ValueError):
        est.coefs_ = est.coefs_[:1]


@pytest.mark.parametrize("attr", ["coefs_", "intercepts_"])
def test_a_rejected_list_assignment_leaves_the_model_unchanged(attr):
    X, y = classification_data(100)
    clf = fit_quietly(small(max_iter=5), X, y)
    proba = clf.predict_proba(X)
    current = getattr(clf, attr)
    # The first array is fine, the last has the wrong shape.
    values = [np.zeros_like(current[0]), np.zeros((3, 3))]
    with pytest.raises(ValueError, match="shape"):
        setattr(clf, attr, values)
    assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("kind", PAIRS)
def test_batch_norm_with_batches_of_one_row_is_refused(kind):
    X, y = data_for(kind, 50)
    with pytest.raises(ValueError, match="batch_norm"):
        small(kind, batch_norm=True, batch_size=1).fit(X, y)


@pytest.mark.parametrize("kind", PAIRS)
def test_early_stopping_without_a_validation_fraction_is_refused(kind):
    X, y = data_for(kind, 50)
    with pytest.raises(ValueError, match="validation_fraction"):
        small(kind, early_stopping=True, validation_fraction=0.0).fit(X, y)


@pytest.mark.parametrize("momentum", [1.0, 1.5, -0.1])
def test_batch_norm_momentum_must_be_below_one(momentum):
    X, y = classification_data(50)
    with pytest.raises(ValueError, match="batch_norm_momentum"):
        small(batch_norm=True, batch_norm_momentum=momentum).fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad"])
@pytest.mark.parametrize("learning_rate_init", [1e3, 1e6, 1e30])
def test_huge_learning_rate_never_leaves_non_finite_batch_norm_statistics(
    solver, learning_rate_init
):
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), solver=solver, batch_norm=True,
                        learning_rate_init=learning_rate_init, max_iter=5,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clf.fit(X, y)
        except DivergenceError:
            assert not hasattr(clf, "coefs_")
            return
    assert np.all(np.isfinite(clf._network.theta))
    for layer in clf._network.layers:
        for value in layer.state.values():
            assert np.all(np.isfinite(value))
    assert np.all(np.isfinite(clf.predict_proba(X)))


def record_batch_norm_batch_sizes(monkeypatch):
    sizes = []
    real_forward = BatchNorm.forward

    def forward(self, Z, ctx=INFERENCE):
        if ctx.training:
            sizes.append(Z.shape[0])
        return real_forward(self, Z, ctx)

    monkeypatch.setattr(BatchNorm, "forward", forward)
    return sizes


@pytest.mark.parametrize("how", ["fit", "early-stopping", "partial_fit"])
def test_batch_norm_never_trains_on_a_one_row_batch(monkeypatch, how):
    X, y = classification_data(301)
    sizes = record_batch_norm_batch_sizes(monkeypatch)
    if how == "early-stopping":
        # 31 rows held out, 270 = 269 + 1 left to train on.
        clf = small(batch_norm=True, batch_size=269, early_stopping=True,
                    max_iter=3)
        n_train = 270
    else:
        clf = small(batch_norm=True, batch_size=150, max_iter=3)  # 301 = 2 * 150 + 1
        n_train = 301
    if how == "partial_fit":
        clf.partial_fit(X, y, classes=np.arange(10))
    else:
        fit_quietly(clf, X, y)
    assert n_train % clf.batch_size == 1
    assert min(sizes) >= 2
    assert sum(sizes) % n_train == 0  # every row is still used


def test_batch_norm_running_variance_of_a_merged_last_batch_is_the_data_variance():
    # 301 rows in batches of 300: the last row joins the first batch, which is
    # then the whole data set. With momentum 0 the running statistics are
    # that batch's, so (weights barely moving at this rate) the data's.
    X, y = classification_data(301)
    clf = fit_quietly(
        small(solver="sgd", batch_norm=True, batch_norm_momentum=0.0,
              batch_size=300, learning_rate_init=1e-6, max_iter=2,
              dtype="float64"),
        X, y,
    )
    (bn,) = [layer for layer in clf._network.layers if isinstance(layer, BatchNorm)]
    z = X @ clf.coefs_[0] + clf.intercepts_[0]
    assert_allclose(bn.state["running_mean"], z.mean(axis=0), rtol=1e-4, atol=1e-6)
    assert_allclose(bn.state["running_var"], z.var(axis=0), rtol=1e-4)
