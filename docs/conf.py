"""Sphinx configuration of the sknets documentation.

Build with ``python3 dev.py docs`` (HTML in ``docs/_build/html``, warnings as
errors, then the code snippets run as doctests).

The example gallery is generated from ``examples/`` by sphinx-gallery, and
the examples run during the build, so every page shows their output and
figures and every card a thumbnail of its first figure. They run in their
fast mode (``SKNETS_EXAMPLES_FAST=1``: digits, a few epochs; a few minutes in
all) unless ``SKNETS_DOCS_RUN_EXAMPLES=full`` (their default size, and MNIST
where ``SKNETS_DATA`` points at it); ``SKNETS_DOCS_RUN_EXAMPLES=0`` renders
code and text only.

The maths renders with no network: MathJax 3 comes from the
``sphinx-mathjax-offline`` package, which copies it into ``_static``, rather
than from a CDN. Links to scikit-learn's, numpy's and scipy's pages go
through intersphinx with inventories written from the installed packages
(``_inventories.py``), since the build machines are offline.
"""

import os
import sys
from pathlib import Path

import sknets

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))
from _inventories import write_inventories  # noqa: E402

project = "sknets"
author = "the sknets developers"
copyright = "the sknets developers"
release = sknets.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

intersphinx_mapping = write_inventories(DOCS / "_build" / "inventories")

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip"]
templates_path = []
# scikit-learn's own theme family: pydata-sphinx-theme.
html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_css_files = ["sknets.css"]
html_title = f"sknets {release}"
html_theme_options = {
    "navbar_align": "left",
    "navbar_end": ["version-switcher", "theme-switcher"],
    "header_links_before_dropdown": 5,
    # Ready for published versions: list them in _static/switcher.json.
    "switcher": {"json_url": "_static/switcher.json", "version_match": release},
    "check_switcher": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_sidebars = {"index": [], "install": [], "getting_started": []}
default_role = "literal"

# API reference: numpydoc parses the docstrings; the autosummary tables in
# api.rst link to the entries written by autoclass/autofunction there, so no
# stub pages are generated.
autosummary_generate = False
# The set_*_request methods scikit-learn adds to every estimator are
# documented by scikit-learn (metadata routing), not here.
autodoc_default_options = {
    "members": True,
    "exclude-members": ",".join(
        f"set_{method}_request"
        for method in ("fit", "partial_fit", "score", "transform",
                       "inverse_transform", "predict", "predict_proba")
    ),
}
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Parameter types link to numpy's, scipy's and scikit-learn's pages.
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "array-like": ":term:`sklearn:array-like`",
    "array_like": ":term:`sklearn:array-like`",
    "sparse matrix": "scipy.sparse.csr_matrix",
    "Generator": "numpy.random.Generator",
    "RandomState": "numpy.random.RandomState",
    "dtype": "numpy.dtype",
    "estimator": ":term:`sklearn:estimator`",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "scalar": "float",
}
numpydoc_xref_ignore = "all"

# Example gallery: run in the fast mode unless asked otherwise.
_run_examples = os.environ.get("SKNETS_DOCS_RUN_EXAMPLES", "1")
if _run_examples not in ("", "0", "full"):
    os.environ.setdefault("SKNETS_EXAMPLES_FAST", "1")
plot_gallery = str(_run_examples not in ("", "0"))
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    # When the gallery is executed, every example runs, not only plot_*.py.
    "filename_pattern": r".*\.py$",
    # Helpers, not examples: _datasets.py, _compare.py.
    "ignore_pattern": r"(^|[\\/])_\w*\.py$",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

# The snippets of the user guide run as doctests (sphinx-build -b doctest);
# they share the data that snippet_data.py loads, which the guide shows.
doctest_global_setup = (DOCS / "snippet_data.py").read_text()
