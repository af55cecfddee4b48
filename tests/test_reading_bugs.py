"""Bugs found by reading the estimator code: batch-norm statistics of
``partial_fit`` and L-BFGS, pre-training memory, the autoencoder's
``partial_fit`` context and the stacked estimators' docstrings."""

import copy
import re
import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context, get_config
from sklearn.utils._param_validation import InvalidParameterError

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets._engine.layers import BatchNorm
from sknets._engine.network import Network


def quietly(method, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return method(*args, **kwargs)


def population_statistics(estimator):
    """``(running_mean, running_var)`` copies of each batch-norm layer."""
    return [(layer.state["running_mean"].copy(), layer.state["running_var"].copy())
            for layer in estimator._network.layers if isinstance(layer, BatchNorm)]


def blobs(n, n_features, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


# --------------------------------------------------------------------------
# 1. partial_fit keeps the population's batch-norm statistics
# --------------------------------------------------------------------------


def test_partial_fit_with_exact_statistics_updates_the_running_averages():
    X, y = blobs(500, 4, seed=0)
    fitted = quietly(MLPClassifier(
        hidden_layer_sizes=(8, 6), batch_norm=True, batch_norm_statistics="exact",
        solver="sgd", learning_rate_init=0.05, max_iter=5, random_state=0,
    ).fit, X, y)
    before = population_statistics(fitted)
    # A small chunk from elsewhere: its statistics are far from the data set's.
    chunk, chunk_y = blobs(50, 4, seed=1)
    chunk = chunk * 3 + 4

    exact = copy.deepcopy(fitted)
    exact.partial_fit(chunk, chunk_y)
    running = copy.deepcopy(fitted).set_params(batch_norm_statistics="running")
    running.partial_fit(chunk, chunk_y)

    after = population_statistics(exact)
    for (mean, var), (run_mean, run_var) in zip(
        after, population_statistics(running), strict=True
    ):
        # The chunk moves the statistics as with "running": the same steps
        # from the same start, so the same bits.
        assert_array_equal(mean, run_mean)
        assert_array_equal(var, run_var)

    # The chunk's own statistics at the first batch-norm layer (which sees
    # the chunk through the fitted dense layer only), to which the old code
    # jumped: the chunk's single minibatch moves the fit's statistics a
    # momentum step towards them instead.
    network = copy.deepcopy(fitted._network)
    network.set_population_statistics(lambda: [(chunk, None)])
    chunk_mean = next(layer.state["running_mean"] for layer in network.layers
                      if isinstance(layer, BatchNorm))
    momentum = fitted.batch_norm_momentum
    (mean, _), (old_mean, _) = after[0], before[0]
    assert np.abs(chunk_mean - old_mean).max() > 1  # a far-away chunk
    assert_allclose(mean, momentum * old_mean + (1 - momentum) * chunk_mean,
                    rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------
# 2. the exact batch-norm pass after L-BFGS goes over row blocks
# --------------------------------------------------------------------------


def test_lbfgs_exact_batch_norm_pass_runs_over_row_blocks(monkeypatch):
    n_samples, block = 9000, 4096
    X, y = blobs(n_samples, 3, seed=2)
    rows_seen = []
    original = Network.set_population_statistics

    def spy(self, chunks):
        def recorded():
            for X_block, sw_block in chunks():
                rows_seen.append(X_block.shape[0])
                yield X_block, sw_block

        return original(self, recorded)

    monkeypatch.setattr(Network, "set_population_statistics", spy)
    clf = quietly(MLPClassifier(hidden_layer_sizes=(5, 4), solver="lbfgs",
                                batch_norm=True, max_iter=5, random_state=0).fit,
                  X, y)
    monkeypatch.undo()

    # Every row, once per batch-norm layer, and no block above the size of
    # those of the pass after the stochastic solvers.
    n_norms = len(population_statistics(clf))
    assert n_norms == 2
    assert sum(rows_seen) == n_norms * n_samples
    assert max(rows_seen) <= block
    # And the statistics are still those of all the rows.
    network = clf._network
    for index, layer in enumerate(network.layers):
        if isinstance(layer, BatchNorm):
            Z = network.forward(X, stop=index).astype(np.float64)
            assert_allclose(layer.state["running_mean"], Z.mean(axis=0),
                            rtol=1e-5, atol=1e-6)
            assert_allclose(layer.state["running_var"], Z.var(axis=0),
                            rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# 3. pre-training computes each layer's codes a block of rows at a time
# --------------------------------------------------------------------------


def test_pretraining_codes_take_one_array_of_their_size():
    n_samples, width = 20000, 128
    rng = np.random.default_rng(3)
    X = rng.random((n_samples, 8), dtype=np.float32)
    clf = StackedPretrainedClassifier(hidden_layer_sizes=(width,),
                                      pretrain_max_iter=1, batch_size=500,
                                      random_state=0)
    codes_bytes = n_samples * width * X.itemsize
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        quietly(clf._pretrain, X, [width])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The codes themselves, plus block-sized temporaries and the small
    # autoencoder's training; a full-size temporary pre-activation (the
    # product, then the product plus the bias) would double it.
    assert peak - start < 1.5 * codes_bytes

    # The blocks give the product over all rows at once, bit for bit.
    from sknets._engine.products import inference_product
    from sknets._pretrained import _pre_activations

    W = rng.standard_normal((8, width)).astype(np.float32)
    b = rng.standard_normal(width).astype(np.float32)
    X = X[:3000]
    expected = inference_product(X, W) + b
    for rows in (16, 1000, 1024, 4096):
        assert_array_equal(_pre_activations(X, W, b, rows=rows), expected)


# --------------------------------------------------------------------------
# 4. the autoencoder's partial_fit runs in scikit-learn's fit context
# --------------------------------------------------------------------------

X01 = np.random.default_rng(5).random((40, 6))


def test_autoencoder_partial_fit_skips_nested_validation_as_fit_does(
    monkeypatch,
):
    # The parameters are validated once, on entry, and not again by the
    # scikit-learn functions called inside (prefer_skip_nested_validation),
    # in partial_fit as in fit and in the MLPs' partial_fit.
    seen = {}
    for method in ("_fit_unsafe", "_partial_fit_unsafe"):
        original = getattr(AutoencoderTransformer, method)

        def recording(self, *args, _method=method, _original=original, **kwargs):
            seen[_method] = get_config()["skip_parameter_validation"]
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(AutoencoderTransformer, method, recording)
    autoencoder = AutoencoderTransformer(hidden_layer_sizes=(3,), max_iter=2)
    quietly(autoencoder.fit, X01)
    autoencoder.partial_fit(X01)
    assert seen == {"_fit_unsafe": True, "_partial_fit_unsafe": True}


def test_autoencoder_partial_fit_validates_parameters_as_fit_does():
    for train in ("fit", "partial_fit"):
        with pytest.raises(InvalidParameterError, match="max_iter"):
            getattr(AutoencoderTransformer(max_iter=-1), train)(X01)
        with pytest.raises(InvalidParameterError, match="corruption"):
            getattr(AutoencoderTransformer(corruption="salt"), train)(X01)
        # Not where scikit-learn is told to skip it: a tolerance out of its
        # range is then used as given (it only makes training stop later).
        autoencoder = AutoencoderTransformer(hidden_layer_sizes=(3,),
                                             max_iter=2, tol=-1.0)
        with config_context(skip_parameter_validation=True):
            quietly(getattr(autoencoder, train), X01)
        assert autoencoder.n_iter_ >= 1, train


# --------------------------------------------------------------------------
# 5. the stacked estimators' docstrings describe them
# --------------------------------------------------------------------------

STACKED = [(StackedPretrainedClassifier, MLPClassifier),
           (StackedPretrainedRegressor, MLPRegressor)]


def section(doc, title):
    """The text of a numpydoc section (up to the next underlined title)."""
    match = re.search(rf"\n    {title}\n    -+\n(.*?)(?=\n    \w[\w ]*\n    -+\n|\Z)",
                      doc, re.S)
    assert match, title
    return match.group(1)


def entries(text):
    """Names of the entries of a section (``name : ...`` lines)."""
    names = re.findall(r"^    ([\w.]+(?:, \w+)*) :", text, re.M)
    return [name for group in names for name in group.split(", ")]


@pytest.mark.parametrize("stacked, plain", STACKED)
def test_stacked_docstrings_describe_the_stacked_estimators(stacked, plain):
    doc = stacked.__doc__
    name, kind = stacked.__name__, plain.__name__
    # Every parameter, the pre-training ones included, and the pre-training
    # attribute.
    params = set(stacked().get_params())
    parameters = entries(section(doc, "Parameters"))
    assert any(p.startswith("pretrain_") for p in params)
    assert params <= set(parameters)
    assert "pretrain_loss_curves_" in entries(section(doc, "Attributes"))
    # Its own example, its own default activation.
    assert f"from sknets import {name}" in doc
    assert f"{kind}(" not in doc
    assert "default='relu'" not in doc
    # It extends the plain MLP, not scikit-learn's estimator (a sentence of
    # the plain MLPs' docstrings).
    assert "this one extends" not in doc
    assert "drop-in superset" not in doc
    see_also = entries(section(doc, "See Also"))
    assert kind in see_also
    assert f"sklearn.neural_network.{kind}" not in see_also
    assert name not in see_also
    # A warm start that continues does not pre-train again.
    warm_start = re.search(r"    warm_start :.*?\n\n", doc, re.S).group(0)
    assert "pre-train" in warm_start
    # Only the classifier takes unlabeled samples (unlabeled_label).
    introduction = doc.split("    Parameters\n")[0]
    assert ("unlabel" in introduction) == ("unlabeled_label" in parameters)


def test_docstring_replacement_raises_on_a_missing_or_repeated_piece():
    from sknets._pretrained import _replace_once

    assert _replace_once("a warm start", "warm", "cold") == "a cold start"
    with pytest.raises(ValueError, match="'hot'"):
        _replace_once("a warm start", "hot", "cold")
    with pytest.raises(ValueError, match="2 copies"):
        _replace_once("warm, warm", "warm", "cold")


# -- partial_fit: no copy per chunk, divergence seen across chunks -----------


@pytest.mark.parametrize("Estimator", [MLPClassifier, AutoencoderTransformer])
def test_a_continuing_partial_fit_deep_copies_nothing(Estimator, monkeypatch):
    X, y = blobs(120, 6, seed=0)
    est = Estimator(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    args = (X, y) if Estimator is MLPClassifier else (X,)
    extra = {"classes": np.unique(y)} if Estimator is MLPClassifier else {}
    quietly(est.partial_fit, *args, **extra)
    copies = []
    real = copy.deepcopy

    def counting(value, *rest, **kwargs):
        copies.append(type(value).__name__)
        return real(value, *rest, **kwargs)

    monkeypatch.setattr(copy, "deepcopy", counting)
    for _ in range(3):
        quietly(est.partial_fit, *args)
    # Streaming pays for its chunks, not for a copy of the model per chunk.
    assert copies == []


def test_a_failed_partial_fit_puts_back_what_it_had_trained(monkeypatch):
    X, y = blobs(120, 6, seed=0)
    est = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", batch_size=16,
                        random_state=0)
    quietly(est.partial_fit, X, y, classes=np.unique(y))
    theta = est._network.theta.copy()
    velocity = est._train_state["optimizer"].velocity.copy()
    n_history = len(est.history_)
    rng_state = est._train_state["rng"].bit_generator.state
    from sknets._engine.optimizers import SGD

    real_step = SGD.step
    calls = []

    def failing_step(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # after one step has changed everything
            raise MemoryError("out of memory in the middle of a chunk")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(SGD, "step", failing_step)
    with pytest.raises(MemoryError):
        est.partial_fit(X, y)
    assert_array_equal(est._network.theta, theta)
    assert_array_equal(est._train_state["optimizer"].velocity, velocity)
    assert len(est.history_) == len(est._train_state["history"]) == n_history
    assert est._train_state["rng"].bit_generator.state == rng_state
    monkeypatch.setattr(SGD, "step", real_step)
    # And it continues exactly as if the failed call had not happened.
    twin = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", batch_size=16,
                         random_state=0)
    quietly(twin.partial_fit, X, y, classes=np.unique(y))
    quietly(est.partial_fit, X, y)
    quietly(twin.partial_fit, X, y)
    assert_array_equal(est._network.theta, twin._network.theta)


def test_a_chunk_whose_loss_explodes_in_partial_fit_is_caught():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 10)).astype(np.float32) * 3
    y = X @ rng.standard_normal(10).astype(np.float32)
    est = MLPRegressor(hidden_layer_sizes=(), solver="sgd", momentum=0.0,
                       learning_rate_init=1e-3, batch_size=20, shuffle=False,
                       random_state=0)
    for _ in range(5):
        quietly(est.partial_fit, X, y)
    # 20 minibatches per chunk at a rate beyond 2 / (the inputs' variance):
    # the loss grows about 12-fold per step, to ~1e23 by the chunk's end,
    # finite in float32, so only the rule on the loss's growth can see it.
    est.set_params(learning_rate_init=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.partial_fit(X, y)
    assert any("loss exploded" in str(w.message) for w in caught), [
        str(w.message) for w in caught]
    # Recovered at a lower rate: the chunk's loss is back to its scale.
    assert est.loss_ < 1e3
    assert est._train_state["schedule"].learning_rate < 0.5


def test_a_warm_start_on_data_of_another_scale_is_no_divergence():
    # The rule compares within a call: a refit on targets 100 times larger
    # (losses 10^4 times larger) is a new scale, not a divergence.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = X @ rng.standard_normal(5)
    est = MLPRegressor(hidden_layer_sizes=(16,), warm_start=True, max_iter=20,
                       random_state=0)
    quietly(est.fit, X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, 100 * y)
    assert not any("loss exploded" in str(w.message) for w in caught)


def test_rare_large_targets_in_the_first_epoch_are_no_divergence():
    # A few rows with huge targets make some minibatches' losses 10^6 times
    # the others': the first epoch's mean loss is far above its first
    # minibatch's, which is no divergence (medians of the epoch's quarters).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 5))
    y = np.zeros(1000)
    y[rng.choice(1000, 10, replace=False)] = 1000.0
    for seed in range(6):
        est = MLPRegressor(hidden_layer_sizes=(16,), batch_size=10, max_iter=3,
                           random_state=seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X, y)
        assert not any("loss exploded" in str(w.message) for w in caught), seed
