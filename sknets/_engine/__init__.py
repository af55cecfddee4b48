"""The training engine: layers, losses, optimisers, the training loop.

Nothing in this package imports scikit-learn or an estimator. Its array work
goes through one :class:`~.ops.Ops` object (:class:`~.ops.NumpyOps` by
default); the estimators build a :class:`~.network.Network`
(:func:`~.network.build_mlp`, :func:`~.network.build_autoencoder`), an
optimiser and a schedule from their parameters, and call
:meth:`.trainer.Trainer.fit` or :func:`.lbfgs.train_lbfgs`.
"""
