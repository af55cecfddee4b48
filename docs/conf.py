"""Sphinx configuration of the sknets documentation.

Build with ``python3 dev.py docs`` (HTML in ``docs/_build/html``, warnings as
errors, then the code snippets run as doctests).

The example gallery is generated from ``examples/`` by sphinx-gallery. The
examples train networks, so by default they are rendered without being run
(code and text only, which keeps the build to seconds). Set
``SKNETS_DOCS_RUN_EXAMPLES=1`` to run them during the build and show their
printed output (and the figures they leave open); they then run in their fast
mode (``SKNETS_EXAMPLES_FAST=1``) unless ``SKNETS_DOCS_RUN_EXAMPLES=full``.
"""

import os
from pathlib import Path

import sknets

DOCS = Path(__file__).resolve().parent

project = "sknets"
author = "the sknets developers"
copyright = "the sknets developers"
release = sknets.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip"]
templates_path = []
html_theme = "alabaster"
html_static_path = []
html_title = f"sknets {release}"
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
numpydoc_xref_param_type = False

# Example gallery.
_run_examples = os.environ.get("SKNETS_DOCS_RUN_EXAMPLES", "0")
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
