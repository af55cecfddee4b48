"""An autoencoder against PCA, and its learned filters.
====================================================

Trains a deep autoencoder (encoder 256-32 on MNIST, 64-10 on digits) and PCA
with the same code size, reports both held-out reconstruction errors (sum of
squared pixel errors per image, averaged over images), and, if matplotlib is
installed, saves the first layer's weights as image tiles
(``autoencoder_filters.png``). With a linear
code and squared error an autoencoder can only match PCA; a non-linear code
of the same size reconstructs better.

Run on digits (seconds): ``python examples/autoencoder_vs_pca.py``; on MNIST
(a few minutes on 2 cores): ``SKNETS_DATA=/path/to/data python
examples/autoencoder_vs_pca.py``.
"""

import time
import warnings
from pathlib import Path

import numpy as np
from _datasets import load_images
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from sknets import AutoencoderTransformer


def reconstruction_mse(X, X_hat):
    return float(np.mean(np.sum((X - X_hat) ** 2, axis=1)))


def save_filters(weights, image_shape, path, n_tiles=64):
    """First-layer weights (one column per unit) as a grid of images."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no figure.")
        return
    n = min(n_tiles, weights.shape[1])
    side = int(np.ceil(np.sqrt(n)))
    fig, axes = plt.subplots(side, side, figsize=(side, side))
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(weights[:, i].reshape(image_shape), cmap="gray")
    fig.suptitle("Autoencoder: first-layer filters")
    fig.savefig(path, dpi=80)
    print(f"saved the first-layer filters to {path}")


def main():
    X_train, _, X_test, _, shape, description = load_images()
    big = shape == (28, 28)
    sizes, epochs = ((256, 32), 30) if big else ((64, 10), 300)
    code = sizes[-1]
    print(f"data: {description}; {len(X_train)} training, {len(X_test)} test images")

    start = time.perf_counter()
    pca = PCA(n_components=code, random_state=0).fit(X_train)
    pca_mse = reconstruction_mse(X_test, pca.inverse_transform(pca.transform(X_test)))
    print(f"PCA, {code} components: test error {pca_mse:.3f} "
          f"({time.perf_counter() - start:.1f} s)")

    start = time.perf_counter()
    autoencoder = AutoencoderTransformer(
        hidden_layer_sizes=sizes, activation="logistic", loss="cross_entropy",
        tied_weights=False, learning_rate_init=0.003, max_iter=epochs,
        batch_size=128, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget
        autoencoder.fit(X_train)
    ae_mse = reconstruction_mse(
        X_test, autoencoder.inverse_transform(autoencoder.transform(X_test))
    )
    print(f"autoencoder {sizes}, code {code}: test error {ae_mse:.3f} "
          f"({time.perf_counter() - start:.1f} s, {autoencoder.n_iter_} epochs)")
    print(f"the autoencoder's error is {ae_mse / pca_mse:.2f} x PCA's")
    save_filters(autoencoder.coefs_[0], shape, Path("autoencoder_filters.png"))


if __name__ == "__main__":
    main()
