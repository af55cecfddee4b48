"""Image data for the examples: MNIST or Fashion-MNIST when given, else digits.

Set ``SKNETS_DATA`` to a folder holding ``mnist.npz`` / ``fashion_mnist.npz``
(arrays ``X_train``, ``y_train``, ``X_test``, ``y_test``, uint8 pixels), for
example ``SKNETS_DATA=/path/to/data``; without it, or when the file is
absent, the examples use scikit-learn's bundled 8x8 digits and say so.
"""

import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_images(name="mnist"):
    """``X_train, y_train, X_test, y_test, image_shape, description``.

    Pixels are scaled to [0, 1].
    """
    folder = os.environ.get("SKNETS_DATA")
    path = Path(folder) / f"{name}.npz" if folder else None
    if path is not None and path.exists():
        data = np.load(path)
        return (data["X_train"] / np.float32(255), data["y_train"],
                data["X_test"] / np.float32(255), data["y_test"], (28, 28),
                f"{name} from {path}")
    if path is not None:
        print(f"{path} not found: using scikit-learn's digits instead.")
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    return X_train, y_train, X_test, y_test, (8, 8), "scikit-learn's 8x8 digits"
