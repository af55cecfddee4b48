"""Utilities for testing code that uses sknets estimators.

- :func:`~sknets.utils.estimator_checks.expected_failed_checks`: the
  scikit-learn estimator checks that an sknets estimator, with the
  parameters it has, is known to fail, each with its reason; pass it to
  :func:`~sklearn.utils.estimator_checks.check_estimator` or
  :func:`~sklearn.utils.estimator_checks.parametrize_with_checks`.
"""
