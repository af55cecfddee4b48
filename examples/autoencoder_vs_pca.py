"""An autoencoder against PCA, and its learned filters.
====================================================

Trains a deep autoencoder (encoder 256-32 on MNIST, 64-10 on digits) and PCA
with the same code size, reports both held-out reconstruction errors (sum of
squared pixel errors per image, averaged over images), then the errors
against the code size (PCA for every size; on digits, autoencoders with half
and twice the code too). With a linear code and squared error an autoencoder
can only match PCA; a non-linear code of the same size reconstructs better.

If matplotlib is installed, it draws those errors and a few reconstructions,
then the first layer's weights as image tiles
(:class:`~sknets.plotting.WeightTilesDisplay`), also saved to
``autoencoder_filters.png``.

Run on digits (seconds): ``python examples/autoencoder_vs_pca.py``; on MNIST
(a few minutes on 2 cores): ``SKNETS_DATA=/path/to/data python
examples/autoencoder_vs_pca.py``.
"""

import time
import warnings
from pathlib import Path

import numpy as np
from _compare import pyplot, save
from _datasets import load_images
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from sknets import AutoencoderTransformer


def reconstruction_mse(X, X_hat):
    return float(np.mean(np.sum((X - X_hat) ** 2, axis=1)))


def pca_errors(X_train, X_test, max_components):
    """Held-out error of PCA with 1, 2, ..., ``max_components`` components.

    One fit: with orthonormal components, the error of the first ``k`` is the
    squared distance to the mean less the squared length of the first ``k``
    coordinates.
    """
    pca = PCA(n_components=max_components, random_state=0).fit(X_train)
    Z = pca.transform(X_test)
    total = np.sum((X_test - pca.mean_) ** 2, axis=1).mean()
    return total - np.cumsum(np.mean(Z**2, axis=0))


def fit_autoencoder(X_train, sizes, epochs):
    autoencoder = AutoencoderTransformer(
        hidden_layer_sizes=sizes, activation="logistic", loss="cross_entropy",
        tied_weights=False, learning_rate_init=0.003, max_iter=epochs,
        batch_size=128, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget
        return autoencoder.fit(X_train)


def mosaic(rows, image_shape):
    """Rows of flat images as one picture, a blank pixel between images."""
    height, width = image_shape
    n_rows, n_cols = len(rows), len(rows[0])
    picture = np.zeros((n_rows * (height + 1) - 1, n_cols * (width + 1) - 1))
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            top, left = i * (height + 1), j * (width + 1)
            picture[top:top + height, left:left + width] = image.reshape(image_shape)
    return picture


def plot(X_test, y_test, shape, pca, autoencoder, code, codes, pca_curve, ae_errors):
    """Reconstructions and error against code size; then the filters."""
    plt = pyplot()
    if plt is None:
        return
    fig, (ax_curve, ax_images) = plt.subplots(
        1, 2, figsize=(11, 4), constrained_layout=True,
        gridspec_kw={"width_ratios": [1, 1.6]},
    )
    ks = np.arange(1, len(pca_curve) + 1)
    ax_curve.plot(ks, pca_curve, ".-", color="C0", label="PCA")
    ax_curve.plot(codes, ae_errors, "o-", color="C1", label="autoencoder")
    ax_curve.axvline(code, color="0.6", linestyle=":", label=f"code size {code}")
    ax_curve.set(title="Held-out reconstruction error", xlabel="code size",
                 ylabel="squared error per image")
    ax_curve.grid(alpha=0.3)
    ax_curve.legend()

    # The first test image of each class, as given and as reconstructed.
    first = [np.flatnonzero(y_test == label)[0] for label in np.unique(y_test)]
    X = X_test[first]
    rows = [X, pca.inverse_transform(pca.transform(X)),
            autoencoder.inverse_transform(autoencoder.transform(X))]
    height = shape[0]
    ax_images.imshow(mosaic(rows, shape), cmap="gray_r", vmin=0, vmax=1,
                     interpolation="nearest")
    ax_images.set_yticks([i * (height + 1) + (height - 1) / 2 for i in range(3)])
    ax_images.set_yticklabels(["test image", f"PCA, {code}", f"autoencoder, {code}"])
    ax_images.set_xticks([])
    ax_images.set_title(f"Reconstructions from codes of size {code}")
    fig.suptitle("An autoencoder against PCA")

    from sknets.plotting import WeightTilesDisplay

    # The 99th percentile for the colour scale: a few border pixels, inked in
    # one image in hundreds, end with the largest weights, which would wash
    # out the rest.
    tiles = WeightTilesDisplay.from_estimator(autoencoder, image_shape=shape,
                                              percentile=99)
    tiles.ax_.set_title("Autoencoder: first-layer filters")
    save(tiles.figure_, Path("autoencoder_filters.png"), "first-layer filters")


def main():
    X_train, _, X_test, y_test, shape, description = load_images()
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
    autoencoder = fit_autoencoder(X_train, sizes, epochs)
    ae_mse = reconstruction_mse(
        X_test, autoencoder.inverse_transform(autoencoder.transform(X_test))
    )
    print(f"autoencoder {sizes}, code {code}: test error {ae_mse:.3f} "
          f"({time.perf_counter() - start:.1f} s, {autoencoder.n_iter_} epochs)")
    print(f"the autoencoder's error is {ae_mse / pca_mse:.2f} x PCA's")

    # Error against code size: PCA for every size; on digits (a second per
    # fit) autoencoders with half and twice the code too.
    codes = [code] if big else [code // 2, code, 2 * code]
    pca_curve = pca_errors(X_train, X_test, 2 * code)
    ae_errors = []
    print(f"\n{'code size':>9} {'PCA error':>9} {'autoencoder error':>17}")
    for size in codes:
        if size == code:
            error = ae_mse
        else:
            other = fit_autoencoder(X_train, sizes[:-1] + (size,), epochs)
            error = reconstruction_mse(
                X_test, other.inverse_transform(other.transform(X_test)))
        ae_errors.append(error)
        print(f"{size:>9} {pca_curve[size - 1]:>9.3f} {error:>17.3f}")
    plot(X_test, y_test, shape, pca, autoencoder, code, codes, pca_curve, ae_errors)


if __name__ == "__main__":
    main()
