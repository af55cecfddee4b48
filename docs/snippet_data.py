# The data every snippet of the user guide uses: scikit-learn's 8x8 digits
# (1797 images, bundled, no download), pixels scaled to [0, 1], split into a
# training set (75%), itself split into a fitting part and a validation part,
# and a test set (25%).
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
X_fit, X_val, y_fit, y_val = train_test_split(
    X_train, y_train, test_size=0.2, stratify=y_train, random_state=0
)
# The snippets train for a few epochs only, which scikit-learn warns about.
warnings.simplefilter("ignore", ConvergenceWarning)
