"""The training engine: numpy and scipy only.

Nothing in this package imports scikit-learn or an estimator; the estimators
build engine objects from their parameters and call :func:`train`.
"""
