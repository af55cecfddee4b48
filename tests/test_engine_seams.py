"""The engine's seams hold: imports go one way, array work goes through Ops.

- The engine (``sknets._engine``) imports nothing above it: no estimator, no
  scikit-learn (``tests/test_engine_parts.py``, which lists the standard
  modules it may use).
- Only the numpy backend's modules import numpy or scipy's array modules;
  layers, losses, optimisers, the network and the training loop reach them
  through an :class:`~sknets._engine.ops.Ops` object, so that a backend is
  one class.
- Every operation the numpy backend implements is declared by the interface,
  and an Ops subclass handed to the engine is the one that does the work,
  with host reads of the loss once per epoch when the backend asks for it.
"""

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import sknets
from sknets._engine import ops as ops_module
from sknets._engine.network import build_autoencoder, build_mlp
from sknets._engine.ops import NumpyOps, Ops, get_ops
from sknets._engine.optimizers import SGD, Adagrad, Adam
from sknets._engine.schedules import Constant
from sknets._engine.trainer import Minibatches, Trainer

ENGINE = Path(sknets.__file__).parent / "_engine"
# The numpy backend: Ops itself and its helpers.
BACKEND = {"ops", "blas", "products", "activations", "numba_ops"}
# Allowed outside the backend, with the reason.
ALLOWED = {
    # L-BFGS is scipy's host algorithm on float64 vectors; the network's
    # arrays cross to it through Ops.
    ("lbfgs", "scipy.optimize"),
    # Gradient checking is a float64 host-side tool on a copy of the network.
    ("gradcheck", "numpy"),
}
ARRAY_LIBRARIES = ("numpy", "scipy", "cupy", "torch", "numba")


def _imports(path):
    """``(module, level)`` of every import in a source file."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


def _engine_modules():
    return sorted(p for p in ENGINE.glob("*.py"))


@pytest.mark.parametrize(
    "path", [p for p in _engine_modules() if p.stem not in BACKEND],
    ids=lambda p: p.stem)
def test_only_the_backend_imports_an_array_library(path):
    for module, level in _imports(path):
        if level:
            continue
        top = module.split(".")[0]
        if top in ARRAY_LIBRARIES and (path.stem, module) not in ALLOWED:
            pytest.fail(f"{path.name} imports {module}: array work belongs "
                        "in an Ops backend (sknets/_engine/ops.py)")


def test_the_guard_sees_an_array_import(tmp_path):
    # The check above is not vacuous: it finds numpy in a module that uses it.
    source = tmp_path / "layer.py"
    source.write_text("import numpy as np\nfrom scipy import sparse\n")
    assert {m for m, _ in _imports(source)} == {"numpy", "scipy"}


def _public_methods(cls):
    return {name for name, value in vars(cls).items()
            if callable(value) and not name.startswith("_")}


def test_the_interface_declares_every_numpy_operation():
    assert _public_methods(NumpyOps) <= _public_methods(Ops)
    assert _public_methods(Ops) <= _public_methods(NumpyOps)
    base = Ops()
    for name in _public_methods(Ops):
        method = getattr(base, name)
        assert inspect.getdoc(method), f"Ops.{name} has no docstring"
        n_args = len(inspect.signature(method).parameters)
        with pytest.raises(NotImplementedError):
            method(*[None] * n_args)


class CountingOps(NumpyOps):
    """numpy's backend, counting the operations it is asked for."""

    name = "counting-test"
    sync_interval = 10**9  # as a device backend: read the loss once an epoch

    def __init__(self):
        self.calls = {}

    def __getattribute__(self, name):
        attribute = super().__getattribute__(name)
        if name in _public_methods(NumpyOps):
            calls = super().__getattribute__("calls")
            calls[name] = calls.get(name, 0) + 1
        return attribute


def _train_one_epoch(ops, optimizer_class, network):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 6)).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 256)]
    if network == "autoencoder":
        net = build_autoencoder(6, (4,), corruption_level=0.2,
                                sparsity_weight=0.1, loss="squared_error",
                                ops=ops)
        Y = X
    else:
        net = build_mlp(6, (8,), 3, dropout=0.3, batch_norm=True, ops=ops)
    net.initialize(np.random.default_rng(1))
    opt = optimizer_class(net.n_params, net.dtype, ops=ops)
    trainer = Trainer(net, opt, Constant(0.05), max_iter=1, alpha=1e-3,
                      n_iter_no_change=np.inf, max_norm=3.0)
    batches = Minibatches(X, Y, batch_size=16, ops=ops)
    result = trainer.fit(batches, np.random.default_rng(2))
    return net, result


@pytest.mark.parametrize("optimizer_class", [SGD, Adagrad, Adam])
@pytest.mark.parametrize("network", ["mlp", "autoencoder"])
def test_the_engine_does_its_array_work_through_the_ops_it_is_given(
        optimizer_class, network):
    ops = CountingOps()
    net, result = _train_one_epoch(ops, optimizer_class, network)
    reference, expected = _train_one_epoch(get_ops(), optimizer_class, network)
    # The same arithmetic, all of it asked of the given backend...
    np.testing.assert_array_equal(net.theta, reference.theta)
    assert result.loss == expected.loss
    step = {SGD: "sgd_step", Adagrad: "adagrad_step", Adam: "adam_step"}
    expected_calls = ["affine", "affine_backward", "activation_forward",
                      "loss_and_delta", step[optimizer_class], "zeros",
                      "penalty", "add_penalty_grad"]
    expected_calls += (["keep_mask", "kl_sparsity"] if network == "autoencoder"
                       else ["keep_mask", "batchnorm_forward", "max_norm"])
    for operation in expected_calls:
        assert ops.calls.get(operation, 0) > 0, operation
    assert ops.calls["loss_and_delta"] == 16  # one per minibatch
    # ...and the loss read on the host twice in the epoch (the first batch's,
    # the reference of the divergence rule, and the epoch's), not per batch.
    assert ops.calls["to_float"] <= 2


def test_ops_objects_pickle_by_name_and_unknown_backends_are_refused():
    import pickle

    assert pickle.loads(pickle.dumps(get_ops())) is get_ops()
    with pytest.raises(ValueError, match="Unknown array backend 'nope'"):
        get_ops("nope")


def test_a_pickled_network_stores_its_backend_as_a_name():
    net = build_mlp(4, (3,), 2)
    state = net.__getstate__()
    assert state["ops"] == "numpy"
    assert all(layer.__getstate__()["ops"] == "numpy" for layer in net.layers)
    assert ops_module.get_ops(state["ops"]) is net.ops


def test_the_engine_package_docstring_names_what_exists():
    # It once named a `train` function that did not exist.
    import importlib
    import re

    import sknets._engine as engine

    names = re.findall(r":(?:func|meth|class):`~?\.?([\w.]+)`", engine.__doc__)
    assert names
    for name in names:
        module, _, attribute = name.rpartition(".")
        if "." in module:  # Class.method
            module, _, owner = module.rpartition(".")
            target = getattr(importlib.import_module(f"sknets._engine.{module}"),
                             owner)
        else:
            target = importlib.import_module(f"sknets._engine.{module}")
        assert hasattr(target, attribute), name


def test_no_machine_timings_in_the_code():
    # Measurements belong in the README (and benchmarks/), where they are
    # dated and say on which machine; a comment goes stale silently.
    import re

    pattern = re.compile(r"\d(\.\d+)? ?(ms|us|µs)\b|\d\.\d+x\b")
    for path in sorted(Path(sknets.__file__).parent.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            assert not pattern.search(line), f"{path.name}:{number}: {line}"
