"""Intersphinx inventories of scikit-learn, numpy, scipy (and the few Python
names numpydoc links to), written offline.

intersphinx links our pages to other projects' from their ``objects.inv``,
which it downloads at build time; the machines that build these docs have no
network. So the inventories are written here, before the build, from the
installed packages: each public class and function of their public modules,
at the address their documentation gives its generated API page
(``modules/generated/<name>.html`` for scikit-learn,
``reference/generated/<name>.html`` for numpy and scipy), plus scikit-learn's
glossary terms that our pages name. The format is Sphinx's inventory
version 2 (a four-line header, then zlib-compressed lines
``name domain:role priority uri display-name``, ``$`` in the uri standing
for the name).
"""

import importlib
import inspect
import zlib
from pathlib import Path

PYTHON = "https://docs.python.org/3/"
SKLEARN = "https://scikit-learn.org/stable/"
NUMPY = "https://numpy.org/doc/stable/"
SCIPY = "https://docs.scipy.org/doc/scipy/"

# scikit-learn glossary entries the docs refer to (``:term:`sklearn:...```).
SKLEARN_TERMS = (
    "array-like", "estimator", "estimators", "classifier", "regressor", "transformer",
    "fit", "partial_fit", "predict", "predict_proba", "transform",
    "inverse_transform", "score", "get_params", "set_params", "clone",
    "cross-validation", "early stopping", "hyperparameter", "metadata routing",
    "random_state", "sample_weight", "warm_start", "n_jobs", "pipeline",
    "meta-estimator", "fitted", "attributes", "parameters",
)
SCIPY_MODULES = ("scipy.sparse", "scipy.optimize", "scipy.special", "scipy.stats")
NUMPY_SPECIAL = {  # pages outside reference/generated
    "numpy.random.Generator": "reference/random/generator.html#$",
    "numpy.random.default_rng": "reference/random/generator.html#$",
    "numpy.random.RandomState": "reference/random/legacy.html#$",
}


def _public(module):
    """``(name, role)`` of the public classes and functions of ``module``:
    its ``__all__``, or else the names it defines itself (or in its private
    submodules), not those it imports from elsewhere."""
    names = getattr(module, "__all__", None)
    own = names is None
    for name in names or [n for n in dir(module) if not n.startswith("_")]:
        try:
            value = getattr(module, name, None)
        except ImportError:  # experimental names, behind an enabling import
            continue
        home = getattr(value, "__module__", None) or ""
        if own and not (home == module.__name__
                        or home.startswith(module.__name__ + "._")):
            continue
        if inspect.isclass(value):
            yield name, "class"
        elif callable(value):
            yield name, "function"


def _sklearn_entries():
    import sklearn

    # The top-level functions (config_context, ...), bar clone, whose page is
    # sklearn.base.clone's.
    yield from ((f"sklearn.{name}", role, "modules/generated/$")
                for name, role in _public(sklearn) if name != "clone")
    for sub in sklearn.__all__:
        try:
            module = importlib.import_module(f"sklearn.{sub}")
        except ImportError:
            continue
        if not inspect.ismodule(module):
            continue
        for name, role in _public(module):
            yield f"sklearn.{sub}.{name}", role, "modules/generated/$"
    for extra in ("sklearn.base", "sklearn.utils", "sklearn.utils.estimator_checks",
                  "sklearn.utils.validation"):
        for name, role in _public(importlib.import_module(extra)):
            yield f"{extra}.{name}", role, "modules/generated/$"


def _numpy_entries():
    import numpy as np

    for name, role in _public(np):
        value = getattr(np, name)
        # Scalar types (float32, int64, ...) share the page on scalars.
        scalar = inspect.isclass(value) and issubclass(value, np.generic)
        page = "reference/arrays.scalars" if scalar else "reference/generated/$"
        yield f"numpy.{name}", role, page
    yield from (
        (name, "class", None) for name in NUMPY_SPECIAL if "default_rng" not in name)
    yield "numpy.random.default_rng", "function", None


def _scipy_entries():
    for path in SCIPY_MODULES:
        for name, role in _public(importlib.import_module(path)):
            yield f"{path}.{name}", role, "reference/generated/$"


# The Python names numpydoc links parameter types to (its DEFAULT_LINKS).
PYTHON_ENTRIES = [
    ("None", "py:data", "library/constants.html#$"),
    ("True", "py:data", "library/constants.html#$"),
    ("False", "py:data", "library/constants.html#$"),
    *((name, "py:class", "library/stdtypes.html#$")
      for name in ("list", "tuple", "str", "dict")),
    *((name, "py:class", "library/functions.html#$") for name in ("float", "int")),
    ("callable", "py:function", "library/functions.html#$"),
    ("contextlib.contextmanager", "py:function", "library/contextlib.html#$"),
    ("collections.namedtuple", "py:function", "library/collections.html#$"),
    *((name, "std:term", "glossary.html#term-$")
      for name in ("iterable", "sequence", "generator")),
]


def _write(path, project, version, lines):
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n"
              f"# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    body = "".join(sorted(set(lines)))
    path.write_bytes(header.encode() + zlib.compress(body.encode()))


def write_inventories(folder):
    """Write ``sklearn.inv``, ``numpy.inv`` and ``scipy.inv`` into
    ``folder``; returns the ``intersphinx_mapping`` that reads them."""
    import numpy
    import scipy
    import sklearn

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def lines(entries, special=None):
        for name, role, page in entries:
            uri = (special or {}).get(name) or f"{page}.html#$"
            uri = uri.replace("$.html", f"{name}.html")
            yield f"{name} py:{role} 1 {uri} -\n"

    sk = list(lines(_sklearn_entries()))
    sk += [f"{term} std:term -1 glossary.html#term-{term.replace(' ', '-')} -\n"
           for term in SKLEARN_TERMS]
    _write(folder / "sklearn.inv", "scikit-learn", sklearn.__version__, sk)
    python = [f"{name} {role} {-1 if role.startswith('std') else 1} {uri} -\n"
              for name, role, uri in PYTHON_ENTRIES]
    python.append("bltin-boolean-values std:label -1 library/stdtypes.html#$ "
                  "Boolean Type - bool\n")
    _write(folder / "python.inv", "Python", "3", python)
    _write(folder / "numpy.inv", "NumPy", numpy.__version__,
           lines(_numpy_entries(), NUMPY_SPECIAL))
    _write(folder / "scipy.inv", "SciPy", scipy.__version__,
           lines(_scipy_entries()))
    return {
        "python": (PYTHON, str(folder / "python.inv")),
        "sklearn": (SKLEARN, str(folder / "sklearn.inv")),
        "numpy": (NUMPY, str(folder / "numpy.inv")),
        "scipy": (SCIPY, str(folder / "scipy.inv")),
    }
