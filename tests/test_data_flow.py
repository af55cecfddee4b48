"""Data flows one way: nothing is left on an estimator for another method.

A fit passes its callback tasks and pre-trained encoders down as arguments;
the only private attributes it sets are fitted state. The shared base knows
no subclass: it names none of the MLP's own parameters, and the autoencoder
does not carry (or fake) parameters it does not take.
"""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

import sknets._base as base
from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
)

# The MLP's own parameters: dropout, max-norm, batch norm, L1, scoring.
MLP_ONLY = ("dropout", "input_dropout", "max_norm", "batch_norm",
            "batch_norm_momentum", "batch_norm_statistics", "l1_alpha", "scoring")
# Private fitted state (everything else a fit sets ends with "_").
FITTED_STATE = {"_network", "_train_state", "_label_binarizer",
                "_pretrain_dead_layers"}

X, y = load_digits(return_X_y=True)
X, y = X[:300] / 16.0, y[:300]


class _Recorder:
    """A scikit-learn callback that only asks for every hook."""

    max_propagation_depth = None

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, **kwargs):
        return False


def _spy_class(cls, names):
    class Spy(cls):
        def __setattr__(self, name, value):
            names.append(name)
            super().__setattr__(name, value)

    Spy.__name__ = Spy.__qualname__ = cls.__name__
    return Spy


@pytest.mark.parametrize("cls", [MLPClassifier, StackedPretrainedClassifier,
                                 AutoencoderTransformer])
@pytest.mark.parametrize("how", ["fit", "partial_fit", "callbacks"])
def test_a_fit_sets_no_private_attribute_but_fitted_state(cls, how):
    if how == "partial_fit" and cls is StackedPretrainedClassifier:
        pytest.skip("pre-training has no partial_fit")
    names = []
    est = _spy_class(cls, names)(hidden_layer_sizes=(8,), max_iter=2,
                                 random_state=0)
    if how == "callbacks":
        if not hasattr(est, "set_callbacks"):
            pytest.skip("scikit-learn < 1.9 has no callback API")
        est.set_callbacks(_Recorder())
    args = (X,) if cls is AutoencoderTransformer else (X, y)
    names.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "partial_fit":
            extra = {} if cls is AutoencoderTransformer else {
                "classes": np.unique(y)}
            est.partial_fit(*args, **extra)
            est.partial_fit(*args)
        else:
            est.fit(*args)
    private = {name for name in names
               if name.startswith("_") and not name.endswith("_")}
    # scikit-learn's callback machinery (with_callbacks) keeps its own.
    private -= {"_callback_fit_ctx", "_skl_callbacks_to_teardown"}
    assert private <= FITTED_STATE, private - FITTED_STATE


def test_the_shared_base_names_none_of_the_mlp_parameters():
    source = inspect.getsource(base.BaseNetworkEstimator)
    for name in MLP_ONLY:
        assert f"self.{name}" not in source, name
        assert f'"{name}"' not in source, name
    assert "get_params()" not in source  # no asking which subclass it is
    assert "code_stop" not in source


def test_the_autoencoder_carries_no_mlp_parameter():
    ae = AutoencoderTransformer()
    for name in MLP_ONLY:
        assert name not in ae.get_params()
        assert name not in AutoencoderTransformer._parameter_constraints
        assert not hasattr(ae, name), name
    # The MLPs do take them.
    for cls in (MLPClassifier, MLPRegressor):
        assert set(MLP_ONLY) <= set(cls().get_params())
