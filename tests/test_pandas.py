"""pandas in and out: feature names, column checks, ``set_output``."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_regressor
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)

pd = pytest.importorskip("pandas")

X_np, y_np = make_classification(n_samples=60, n_features=4, n_informative=3,
                                 n_redundant=0, random_state=0)
X_np = (X_np - X_np.min(axis=0)) / (X_np.max(axis=0) - X_np.min(axis=0))
COLUMNS = ["age", "height", "weight", "income"]
X_df = pd.DataFrame(X_np, columns=COLUMNS)
y_labels = pd.Series(np.where(y_np == 1, "yes", "no"), name="answer")
y_reg = pd.Series(X_np @ np.arange(1, 5), name="target")

SMALL = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
ESTIMATORS = [
    MLPClassifier(**SMALL),
    MLPClassifier(**SMALL, solver="lbfgs"),
    MLPRegressor(**SMALL),
    AutoencoderTransformer(**SMALL),
    StackedPretrainedClassifier(**SMALL, pretrain_max_iter=2),
    StackedPretrainedRegressor(**SMALL, pretrain_max_iter=2),
]


def _fit(est, X):
    target = None
    if not isinstance(est, AutoencoderTransformer):
        target = y_reg if is_regressor(est) else y_labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, target)


def _apply(est, X):
    for method in ("transform", "predict_proba", "predict"):
        if hasattr(est, method):
            return getattr(est, method)(X)


@pytest.mark.parametrize("est", ESTIMATORS, ids=repr)
def test_dataframe_gives_the_same_model_and_keeps_feature_names(est):
    from_df = _fit(clone(est), X_df)
    from_np = _fit(clone(est), X_np)
    assert_array_equal(from_df.feature_names_in_, COLUMNS)
    assert not hasattr(from_np, "feature_names_in_")
    # A DataFrame's array may be laid out in another memory order, which
    # changes float32 rounding in the matrix products, nothing more.
    assert_allclose(np.asarray(_apply(from_df, X_df)), _apply(from_np, X_np),
                    rtol=1e-4)


@pytest.mark.parametrize("est", ESTIMATORS, ids=repr)
def test_column_mismatches_warn_or_raise_as_scikit_learn_does(est):
    est = _fit(clone(est), X_df)
    renamed = X_df.rename(columns={"age": "AGE"})
    with pytest.raises(ValueError, match="feature names should match"):
        _apply(est, renamed)
    with pytest.raises(ValueError, match="feature names should match"):
        _apply(est, X_df[COLUMNS[::-1]])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        _apply(est, X_np)
    unnamed = _fit(clone(est), X_np)
    with pytest.warns(UserWarning, match="fitted without feature names"):
        _apply(unnamed, X_df)


def test_classifier_keeps_string_labels_from_a_series():
    est = _fit(MLPClassifier(**SMALL), X_df)
    assert_array_equal(est.classes_, ["no", "yes"])
    assert set(est.predict(X_df)) <= {"no", "yes"}


def test_validation_data_and_weights_may_be_pandas():
    est = MLPClassifier(**SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_df, y_labels, sample_weight=pd.Series(np.ones(len(X_df))),
                X_val=X_df.iloc[:20], y_val=y_labels.iloc[:20])
    assert len(est.validation_scores_) == 5
    with pytest.raises(ValueError, match="feature names should match"):
        est.fit(X_df, y_labels, X_val=X_df.rename(columns={"age": "AGE"}),
                y_val=y_labels)


def test_partial_fit_streams_dataframe_chunks():
    est = MLPClassifier(**SMALL)
    for chunk in np.array_split(np.arange(len(X_df)), 3):
        est.partial_fit(X_df.iloc[chunk], y_labels.iloc[chunk],
                        classes=["no", "yes"])
    assert_array_equal(est.feature_names_in_, COLUMNS)
    with pytest.raises(ValueError, match="feature names should match"):
        est.partial_fit(X_df.rename(columns={"age": "AGE"}), y_labels)


def test_stacked_classifier_with_unlabeled_rows_in_a_dataframe():
    y = y_labels.copy()
    y.iloc[::2] = "unlabeled"
    est = StackedPretrainedClassifier(**SMALL, pretrain_max_iter=2,
                                      unlabeled_label="unlabeled")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_df, y)
    assert_array_equal(est.feature_names_in_, COLUMNS)
    assert_array_equal(est.classes_, ["no", "yes"])


def test_autoencoder_set_output_pandas():
    est = _fit(AutoencoderTransformer(**SMALL), X_df).set_output(transform="pandas")
    codes = est.transform(X_df)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == [f"autoencodertransformer{i}" for i in range(5)]
    assert list(codes.columns) == list(est.get_feature_names_out())
    assert codes.index.equals(X_df.index)
    assert_allclose(codes.to_numpy(), est.set_output(transform="default")
                    .transform(X_df))


def test_pandas_output_flows_through_a_pipeline():
    pipe = make_pipeline(AutoencoderTransformer(hidden_layer_sizes=(3,), max_iter=5,
                                                random_state=0),
                         MLPClassifier(**SMALL)).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_df, y_labels)
    assert_array_equal(pipe[-1].feature_names_in_,
                       [f"autoencodertransformer{i}" for i in range(3)])
    assert len(pipe.predict(X_df)) == len(X_df)


def test_stacked_models_have_no_transform():
    # Nothing to configure with set_output: they only predict.
    for cls in (StackedPretrainedClassifier, StackedPretrainedRegressor):
        assert not hasattr(cls(), "transform")
