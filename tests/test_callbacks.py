"""Progress reporting: the trainer's epoch hook and scikit-learn's callback API."""

import importlib.util
import pathlib
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import (
    AutoencoderTransformer,
    MLPClassifier,
    MLPRegressor,
    StackedPretrainedClassifier,
    StackedPretrainedRegressor,
)
from sknets._engine.network import build_mlp
from sknets._engine.optimizers import SGD
from sknets._engine.schedules import Constant
from sknets._engine.trainer import Minibatches, Trainer

X, y = make_classification(n_samples=60, n_features=5, n_informative=3,
                           random_state=0)
X01 = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))

SMALL = dict(hidden_layer_sizes=(4,), random_state=0, learning_rate_init=0.01)


class Recorder:
    """Records every hook; auto-propagated; asks to stop after ``stop_after`` epochs."""

    max_propagation_depth = None

    def __init__(self, stop_after=None):
        self.events = []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        self.events.append(("setup", type(estimator).__name__, None))

    def teardown(self, estimator, context):
        self.events.append(("teardown", type(estimator).__name__, None))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None,
                          metadata=None, fitted_estimator=None):
        self.events.append(("begin", type(estimator).__name__, context.task_name))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None,
                        metadata=None, fitted_estimator=None):
        self.events.append(("end", type(estimator).__name__, context.task_name))
        return self.stop_after is not None and self.epochs() >= self.stop_after

    def epochs(self, estimator_name=None):
        return sum(
            1 for hook, name, task in self.events
            if hook == "end" and task == "epoch"
            and estimator_name in (None, name)
        )


class EpochModels:
    """Keeps the model handed to the hooks at the end of every epoch."""

    def __init__(self):
        self.models = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name == "epoch":
            self.models.append(fitted_estimator)


# -- the engine's hook ---------------------------------------------------------


def test_trainer_on_epoch_end_sees_each_record_and_can_stop_training():
    rng = np.random.default_rng(0)
    X_e = rng.standard_normal((40, 3))
    Y_e = np.eye(2)[(X_e[:, 0] > 0).astype(int)]
    net = build_mlp(3, (5,), 2, dtype=np.float64)
    net.initialize(np.random.default_rng(0))
    records = []

    def on_epoch_end(record):
        records.append(record)
        return len(records) == 3

    trainer = Trainer(net, SGD(net.n_params, np.float64), Constant(0.1),
                      max_iter=20, n_iter_no_change=100, on_epoch_end=on_epoch_end)
    result = trainer.fit(Minibatches(X_e, Y_e, batch_size=10),
                         np.random.default_rng(0))
    assert result.stop_reason == "callback"
    assert result.n_iter == 3
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records == result.history


# -- scikit-learn's callback API -------------------------------------------------

try:
    from sklearn import callback
except ImportError:  # scikit-learn < 1.9
    callback = None

needs_callbacks = pytest.mark.skipif(
    callback is None, reason="scikit-learn < 1.9 has no callback API"
)

FIT_ESTIMATORS = [
    MLPClassifier(**SMALL, max_iter=4),
    MLPClassifier(**SMALL, max_iter=4, solver="sgd", dropout=0.2, batch_norm=True),
    MLPClassifier(**SMALL, max_iter=4, early_stopping=True, n_iter_no_change=50),
    MLPRegressor(**SMALL, max_iter=4, solver="adagrad"),
    AutoencoderTransformer(**SMALL, max_iter=4),
]


@needs_callbacks
@pytest.mark.parametrize("est", FIT_ESTIMATORS, ids=lambda e: repr(e))
def test_one_task_per_epoch(est):
    recorder = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(recorder).fit(X01, y)
    assert recorder.epochs() == est.n_iter_ == 4
    name = type(est).__name__
    epochs = [("begin", name, "epoch"), ("end", name, "epoch")] * 4
    assert recorder.events == [
        ("setup", name, None), ("begin", name, "fit"), *epochs,
        ("end", name, "fit"), ("teardown", name, None),
    ]
    # No trace of the callback machinery is left on the estimator.
    assert not [k for k in vars(est) if "callback" in k and k != "_skl_callbacks"]


@needs_callbacks
@pytest.mark.parametrize("Stacked", [StackedPretrainedClassifier,
                                     StackedPretrainedRegressor])
def test_stacked_reports_pretraining_stages_and_fine_tuning_epochs(Stacked):
    recorder = Recorder()
    est = Stacked(hidden_layer_sizes=(4, 3), max_iter=3, pretrain_max_iter=2,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(recorder).fit(X01, y)
    name = type(est).__name__
    # Each layer's autoencoder fit is attached below its stage.
    assert recorder.epochs("AutoencoderTransformer") == 2 * 2
    assert recorder.epochs(name) == 3
    tasks = [task for hook, _, task in recorder.events if hook == "begin"]
    assert tasks == ["fit", "fit", "epoch", "epoch", "fit", "epoch", "epoch",
                     "fine-tune", "epoch", "epoch", "epoch"]


@needs_callbacks
@pytest.mark.parametrize("pretrain_max_iter, n_stages", [(2, 3), (0, 1)])
def test_stacked_declares_the_stages_it_runs(pretrain_max_iter, n_stages):
    # The root task declares as many subtasks as it will have (a layer's
    # stage shows as its autoencoder's fit): a progress bar that counts
    # stages would otherwise never reach its end.
    class Stages(Recorder):
        declared, begun = None, 0

        def on_fit_task_begin(self, estimator, context, **kwargs):
            if context.parent is None:
                self.root, self.declared = context, context.max_subtasks
            elif context.parent is self.root:
                self.begun += 1
            super().on_fit_task_begin(estimator, context, **kwargs)

    recorder = Stages()
    est = StackedPretrainedClassifier(
        hidden_layer_sizes=(4, 3), max_iter=2, random_state=0,
        pretrain_max_iter=pretrain_max_iter,
    ).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X01, y)
    assert recorder.begun == n_stages
    assert recorder.declared == n_stages


@needs_callbacks
@pytest.mark.parametrize(
    "est", [MLPClassifier(**SMALL), AutoencoderTransformer(**SMALL)],
    ids=["classifier", "autoencoder"],
)
def test_partial_fit_is_one_task_of_one_epoch(est):
    recorder = Recorder()
    est.set_callbacks(recorder)
    for chunk in np.array_split(np.arange(len(X)), 3):
        if isinstance(est, AutoencoderTransformer):
            est.partial_fit(X01[chunk])
        else:
            est.partial_fit(X[chunk], y[chunk], classes=[0, 1])
    assert recorder.epochs() == 3
    hooks = [hook for hook, _, _ in recorder.events]
    assert hooks.count("setup") == hooks.count("teardown") == 3


@needs_callbacks
def test_lbfgs_fit_is_a_single_task():
    recorder = Recorder()
    est = MLPClassifier(**SMALL, solver="lbfgs", max_iter=5).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert [task for _, _, task in recorder.events] == [None, "fit", "fit", None]


@needs_callbacks
def test_a_callback_can_stop_training():
    recorder = Recorder(stop_after=2)
    est = MLPClassifier(**SMALL, max_iter=50).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop
        est.fit(X, y)
    assert est.n_iter_ == 2 == len(est.loss_curve_)
    assert recorder.epochs() == 2


@needs_callbacks
def test_a_failing_fit_still_tears_the_callbacks_down():
    class Failing(Recorder):
        def on_fit_task_end(self, estimator, context, **kwargs):
            super().on_fit_task_end(estimator, context, **kwargs)
            if self.epochs() == 2:
                raise RuntimeError("callback failed")

    recorder = Failing()
    est = MLPClassifier(**SMALL, max_iter=5).set_callbacks(recorder)
    with pytest.raises(RuntimeError, match="callback failed"):
        est.fit(X, y)
    assert recorder.events[-1] == ("teardown", "MLPClassifier", None)
    assert not hasattr(est, "n_iter_")  # a failed fit leaves the estimator as it was
    assert not [k for k in vars(est) if "callback" in k and k != "_skl_callbacks"]


@needs_callbacks
def test_hooks_get_the_model_of_each_epoch():
    monitor = EpochModels()
    est = MLPClassifier(**{**SMALL, "learning_rate_init": 0.1}, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(monitor).fit(X, y)
    assert len(monitor.models) == 3
    # Each is a snapshot, and the last is the fitted model.
    assert_allclose(monitor.models[-1].predict_proba(X), est.predict_proba(X))
    assert not np.allclose(monitor.models[0].predict_proba(X), est.predict_proba(X))


@needs_callbacks
def test_scoring_monitor_logs_a_score_per_epoch():
    monitor = callback.ScoringMonitor(scoring="accuracy")
    est = MLPClassifier(**SMALL, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(monitor).fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert len(rows) == 3
    assert all(0 <= row["accuracy"] <= 1 for row in rows)


@needs_callbacks
def test_callbacks_propagate_from_a_pipeline():
    recorder = Recorder()
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**SMALL, max_iter=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.set_callbacks(recorder).fit(X, y)
    assert recorder.epochs("MLPClassifier") == 3
    # The pipeline set the callbacks up once and tore them down once.
    assert [e for e in recorder.events if e[0] in ("setup", "teardown")] == [
        ("setup", "Pipeline", None), ("teardown", "Pipeline", None)
    ]


@needs_callbacks
def test_callbacks_propagate_from_a_grid_search():
    recorder = Recorder()
    search = GridSearchCV(MLPClassifier(**SMALL, max_iter=2),
                          {"alpha": [1e-4, 1e-2]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.set_callbacks(recorder).fit(X, y)
    # 2 candidates x 2 folds, then the refit; 2 epochs each.
    assert recorder.epochs("MLPClassifier") == 5 * 2


@needs_callbacks
def test_progress_bar_runs():
    pytest.importorskip("rich")
    est = MLPClassifier(**SMALL, max_iter=3).set_callbacks(callback.ProgressBar())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ == 3


@needs_callbacks
def test_verbose_still_prints_each_epoch(capsys):
    est = MLPClassifier(**SMALL, max_iter=2, verbose=True).set_callbacks(Recorder())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert capsys.readouterr().out.count("Iteration") == 2


def test_compat_falls_back_without_the_callback_api(monkeypatch):
    # Load a fresh copy of the compat module with sklearn.callback unimportable.
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)
    path = pathlib.Path(__file__).parents[1] / "sknets" / "_sklearn_compat.py"
    spec = importlib.util.spec_from_file_location("compat_without_callbacks", path)
    compat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compat)
    assert not hasattr(compat.CallbackSupportMixin, "set_callbacks")

    def method(self):
        return 1

    assert compat.with_callbacks(method) is method
