"""The scikit-learn estimator checks that sknets estimators are known to fail."""

from sklearn.utils import estimator_checks as sklearn_checks
from sklearn.utils import get_tags

from .. import _solvers
from .._autoencoder import AutoencoderTransformer
from .._mlp import MLPClassifier, MLPRegressor

__all__ = ["expected_failed_checks"]

# MLPClassifier and MLPRegressor are also the bases of the stacked estimators.
_SKNETS_ESTIMATORS = (MLPClassifier, MLPRegressor, AutoencoderTransformer)

# The weight checks fit 15 rows with integer weights, and the same rows
# repeated into 27 rows in all; only a minibatch of 27 or more holds them all.
_REPEATED_ROWS = 27

_MULTILABEL_CHECKS = (
    "check_classifiers_multilabel_representation_invariance",
    "check_classifiers_multilabel_output_format_predict",
    "check_classifiers_multilabel_output_format_predict_proba",
    "check_classifiers_multilabel_output_format_decision_function",
)
_PARTIAL_FIT_CHECKS = (
    "check_fit_score_takes_y",
    "check_n_features_in_after_fitting",
    "check_estimators_partial_fit_n_features",
)


def expected_failed_checks(estimator):
    """The scikit-learn estimator checks that ``estimator`` is known to fail.

    Reads the estimator's parameters (it does not fit it) and returns the
    checks that its settings make fail, each with a one-line reason, in the
    form that :func:`~sklearn.utils.estimator_checks.check_estimator` and
    :func:`~sklearn.utils.estimator_checks.parametrize_with_checks` take as
    ``expected_failed_checks``.

    Parameters
    ----------
    estimator : estimator instance
        An sknets estimator (:class:`~sknets.MLPClassifier`,
        :class:`~sknets.MLPRegressor`, :class:`~sknets.AutoencoderTransformer`,
        :class:`~sknets.StackedPretrainedClassifier` or
        :class:`~sknets.StackedPretrainedRegressor`), with any parameters.

    Returns
    -------
    expected_failed_checks : dict of str to str
        The name of each check expected to fail, mapped to the reason; only
        checks that the installed scikit-learn has. Empty when all checks are
        expected to pass.

    Raises
    ------
    TypeError
        If ``estimator`` is not an sknets estimator (a
        :class:`~sklearn.pipeline.Pipeline` ending in one included: its other
        steps have their own expected failures).

    See Also
    --------
    sklearn.utils.estimator_checks.check_estimator : Run the checks on one
        estimator.
    sklearn.utils.estimator_checks.parametrize_with_checks : Make one pytest
        test per estimator and check.

    Notes
    -----
    The checks listed, and why:

    - ``check_sample_weight_equivalence_on_dense_data`` (and
      ``..._on_sparse_data`` where sparse input is accepted) compares a fit
      with integer sample weights to a fit on repeated rows at
      ``rtol=1e-7``. It fails with ``dtype="float32"`` (the default: the two
      fits agree to float32 round-off, about 1e-6), and, in float64, with
      anything random per row or counting rows: dropout, input dropout or
      corruption noise (each copy of a row draws its own), early stopping's
      validation split, ``learning_rate="invscaling"`` with ``"sgd"`` or
      ``"adagrad"`` (its time counts rows), an integer ``batch_size`` that
      splits the repeated rows into several minibatches, and
      ``class_weight="balanced"`` (it counts rows, not weights).
    - With ``class_weight`` set, the multilabel checks (class weights are not
      defined for multilabel targets); with a dict, also
      ``check_classifiers_classes`` (its labels are not the dict's keys); with
      ``"balanced"``, the checks that call ``partial_fit``, which refuses it.
    - With ``loss="poisson"``, ``check_regressor_multioutput``: it draws
      negative targets.
    - With ``warm_start=True``, the checks that fit one estimator twice and
      expect the second fit to forget the first.

    The checks that score a fitted model against a threshold
    (``check_classifiers_train``, ``check_regressors_train``,
    ``check_class_weight_classifiers``) are not listed: they pass with the
    defaults, but a network trained too briefly or too slowly (a small
    ``max_iter`` or ``learning_rate_init``; ``loss="poisson"`` at the default
    rate) may not reach their scores.

    Examples
    --------
    >>> from sklearn.utils.estimator_checks import check_estimator
    >>> from sknets import MLPClassifier
    >>> from sknets.utils.estimator_checks import expected_failed_checks
    >>> clf = MLPClassifier()
    >>> sorted(expected_failed_checks(clf))  # doctest: +NORMALIZE_WHITESPACE
    ['check_sample_weight_equivalence_on_dense_data',
     'check_sample_weight_equivalence_on_sparse_data']
    >>> results = check_estimator(
    ...     clf, expected_failed_checks=expected_failed_checks(clf), on_skip=None
    ... )

    In a pytest module, the same with one test per check:

    >>> from sklearn.utils.estimator_checks import parametrize_with_checks
    >>> @parametrize_with_checks([MLPClassifier()],
    ...                          expected_failed_checks=expected_failed_checks)
    ... def test_sklearn_compatible(estimator, check):
    ...     check(estimator)
    """
    if not isinstance(estimator, _SKNETS_ESTIMATORS):
        raise TypeError(
            "expected_failed_checks takes an sknets estimator (MLPClassifier, "
            "MLPRegressor, AutoencoderTransformer, StackedPretrainedClassifier "
            f"or StackedPretrainedRegressor); got {type(estimator).__name__}."
        )
    params = estimator.get_params(deep=False)
    failed = {}
    reason = _weight_equivalence_failure(params)
    if reason is not None:
        failed["check_sample_weight_equivalence_on_dense_data"] = reason
        if get_tags(estimator).input_tags.sparse:
            failed["check_sample_weight_equivalence_on_sparse_data"] = reason
    failed.update(_class_weight_failures(params.get("class_weight")))
    if params.get("loss") == "poisson":
        failed["check_regressor_multioutput"] = (
            "the check draws negative targets, which the Poisson loss rejects"
        )
    if params["warm_start"]:
        failed.update(_warm_start_failures(estimator))
    # Only the checks this version of scikit-learn has (each is a function of
    # sklearn.utils.estimator_checks named as the check).
    return {name: why for name, why in failed.items()
            if hasattr(sklearn_checks, name)}


def _weight_equivalence_failure(params):
    """Why integer weights do not fit as repeated rows do, or None."""
    if params["dtype"] == "float32":
        return ("float32: weighted and repeated fits agree to round-off "
                "(about 1e-6), not to the check's rtol=1e-7 (on some BLAS "
                "kernels they may agree by chance)")
    if params.get("corruption_level") or (
        params.get("pretrain_corruption_level") and params["pretrain_max_iter"]
    ):
        return "corruption noise is drawn per row: each repeated copy gets its own"
    stochastic = _solvers.is_stochastic(params["solver"])
    if stochastic and (params.get("dropout") or params.get("input_dropout")):
        return "dropout masks are drawn per row: each repeated copy gets its own"
    if stochastic and params["early_stopping"]:
        return "the validation split draws rows, so repeated rows split otherwise"
    if (params["learning_rate"] == "invscaling"
            and params["solver"] in ("sgd", "adagrad")):
        return ("invscaling's time counts rows, so it decays faster on repeated "
                "rows than on weighted ones")
    batch_size = params["batch_size"]
    if stochastic and batch_size != "auto" and batch_size < _REPEATED_ROWS:
        return (f"batch_size={batch_size} splits the repeated rows into other "
                "minibatches than the weighted ones")
    if params.get("class_weight") == "balanced":
        return ("class_weight='balanced' counts rows, so repeated rows weigh "
                "the classes otherwise than integer weights")
    return None


def _class_weight_failures(class_weight):
    if class_weight is None:
        return {}
    failed = dict.fromkeys(
        _MULTILABEL_CHECKS, "class_weight is not supported for multilabel targets"
    )
    if isinstance(class_weight, str):  # 'balanced'
        failed.update(dict.fromkeys(
            _PARTIAL_FIT_CHECKS,
            "partial_fit refuses class_weight='balanced' (a chunk's class "
            "frequencies are not the data set's)",
        ))
    else:
        failed["check_classifiers_classes"] = (
            "the check's labels are not the keys of class_weight"
        )
    return failed


def _warm_start_failures(estimator):
    reason = "warm_start=True: a second fit continues from the first"
    if isinstance(estimator, AutoencoderTransformer):
        names = ("check_transformer_general", "check_transformer_data_not_an_array",
                 "check_pipeline_consistency")
    elif isinstance(estimator, MLPClassifier):
        names = ("check_supervised_y_2d",
                 "check_classifiers_multilabel_representation_invariance")
    else:
        names = ("check_supervised_y_2d",)
    return dict.fromkeys(names, reason)
