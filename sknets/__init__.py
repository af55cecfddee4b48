"""sknets: neural-network estimators for scikit-learn, in numpy."""

from ._autoencoder import AutoencoderTransformer
from ._config import config_context, get_config, set_config
from ._mlp import MLPClassifier, MLPRegressor
from ._pretrained import StackedPretrainedClassifier, StackedPretrainedRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "AutoencoderTransformer",
    "MLPClassifier",
    "MLPRegressor",
    "StackedPretrainedClassifier",
    "StackedPretrainedRegressor",
    "__version__",
    "config_context",
    "get_config",
    "set_config",
]
