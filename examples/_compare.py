"""Side-by-side training runs for the comparison examples.

Each model is trained on the same scaled split with a validation set of its
own (``fit(X, y, X_val=..., y_val=...)``), so that its ``history_`` records
the validation accuracy of every epoch; the table and the learning curves are
read from it.
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split


def fast_mode():
    """Whether ``SKNETS_EXAMPLES_FAST`` asks for a quick run (tests, docs)."""
    return os.environ.get("SKNETS_EXAMPLES_FAST", "") not in ("", "0")


def parse_args(description, plot=True):
    """``--data`` (which images under ``SKNETS_DATA``) and ``--plot PATH``."""
    parser = argparse.ArgumentParser(description=description.partition("\n")[0])
    parser.add_argument(
        "--data", choices=["mnist", "fashion_mnist"], default="mnist",
        help="data set to load when SKNETS_DATA is set (default: mnist)",
    )
    if plot:
        parser.add_argument(
            "--plot", metavar="PATH",
            help="save the learning curves to this image file (needs matplotlib)",
        )
    return parser.parse_args()


def split_and_scale(X_train, y_train, X_test, validation_size=0.2, seed=0):
    """Fitting and validation parts of the training set, all three scaled.

    Each pixel is centred on its mean, and all pixels are divided by one
    common standard deviation, both from the fitting part only. (A
    ``StandardScaler`` would divide each pixel by its own deviation, which
    blows the rare ink of MNIST's border pixels up to 100 and more.)
    """
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, test_size=validation_size, stratify=y_train,
        random_state=seed,
    )
    mean = X_fit.mean(axis=0)
    scale = (X_fit - mean).std()

    def transform(X):
        return ((X - mean) / scale).astype(np.float32)

    return transform(X_fit), y_fit, transform(X_val), y_val, transform(X_test)


def epochs_to_reach(history, target):
    """First epoch whose validation accuracy reaches ``target``, or None."""
    for record in history:
        if record["val_score"] >= target:
            return record["epoch"]
    return None


def compare(models, X_fit, y_fit, X_val, y_val, X_test, y_test, target):
    """Train every model; one summary row (a dict) per model."""
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budgets
            model.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
        seconds = time.perf_counter() - start
        scores = [record["val_score"] for record in model.history_]
        rows.append({
            "model": name,
            "estimator": model,
            "train accuracy": model.score(X_fit, y_fit),
            "best val accuracy": max(scores),
            "best epoch": int(np.argmax(scores)) + 1,
            f"epochs to {target:.0%}": epochs_to_reach(model.history_, target),
            "test accuracy": model.score(X_test, y_test),
            "seconds": seconds,
        })
    return rows


def print_table(rows):
    columns = [key for key in rows[0] if key != "estimator"]
    width = max(len(row["model"]) for row in rows)
    print(f"{'model':<{width}}  " + "  ".join(f"{c:>{len(c)}}" for c in columns[1:]))
    for row in rows:
        cells = []
        for column in columns[1:]:
            value = row[column]
            if value is None:
                text = "never"
            elif isinstance(value, float):
                text = f"{value:.2f}" if column == "seconds" else f"{value:.4f}"
            else:
                text = str(value)
            cells.append(f"{text:>{len(column)}}")
        print(f"{row['model']:<{width}}  " + "  ".join(cells))


def pyplot():
    """matplotlib.pyplot, or None (after a one-line note) without matplotlib.

    The backend is matplotlib's choice (or ``MPLBACKEND``'s): without a
    display it falls back to Agg by itself, and the docs' gallery selects
    Agg. The examples only create figures and never show them, so that a
    run in a terminal does not wait on a window; they are left open, for
    the gallery to show (and for ``plt.show()`` in an interactive session).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no figure.")
        return None
    return plt


def save(fig, path, what):
    """Save ``fig`` to ``path`` and say so; the figure stays open."""
    fig.savefig(path, dpi=80)
    print(f"saved the {what} to {path}")


def plot_learning_curves(rows, title, path=None, styles=None):
    """Training loss, validation loss and validation accuracy per epoch.

    One line per model, read from its ``history_``; ``styles`` maps a
    model's name to keyword arguments of ``Axes.plot`` (colour, line style).
    The figure is returned and left open, and saved to ``path`` when one is
    given; None without matplotlib.
    """
    plt = pyplot()
    if plt is None:
        return None
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), constrained_layout=True)
    panels = [("train_loss", "training loss", "log"),
              ("val_loss", "validation loss", "log"),
              ("val_score", "validation accuracy", "linear")]
    for row in rows:
        history = row["estimator"].history_
        epochs = [record["epoch"] for record in history]
        style = (styles or {}).get(row["model"], {})
        for ax, (key, _, _) in zip(axes, panels, strict=True):
            ax.plot(epochs, [record[key] for record in history],
                    label=row["model"], **style)
    for ax, (_, label, scale) in zip(axes, panels, strict=True):
        ax.set(title=label, xlabel="epoch", ylabel=label, yscale=scale)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize="x-small", loc="lower right")
    fig.suptitle(title)
    if path:
        save(fig, path, "learning curves")
    return fig
