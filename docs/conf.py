"""Sphinx configuration of the estkit documentation site.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` (warnings are errors).
The API pages are generated from each public module's ``__all__`` (so every public callable
is documented), and the vignettes are executed as a sphinx-gallery.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))

from vignette_gallery import OutputScraper, prepare_gallery_sources  # noqa: E402

project = "estkit"
author = "estkit developers"
copyright = "2026, estkit developers"
release = importlib.import_module("estkit").__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_gallery_src", "validity/data", "**.ipynb_checkpoints"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # the markdown pages start their headings at level 2 in places

templates_path = ["_templates"]
autosummary_generate = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # numpydoc renders the types from the docstrings
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "pydata_sphinx_theme"
html_title = f"estkit {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []

# ---------------------------------------------------------------------------------------
# API pages: one per public module, listing everything in its __all__.
API_MODULES = {
    "estkit": "Shared core: kernels, local polynomials, bandwidths, bootstrap, results",
    "r3d": "Distributional regression discontinuity",
    "r3d.simulate": "Simulated designs of the paper",
    "r3d.datasets": "Bundled data: the gubernatorial study",
    "r3d.monte_carlo": "Monte Carlo validity study",
    "causalminimax": "Causal minimax stable-subset learning",
    "causalminimax.baselines": "Baselines",
    "causalminimax.datasets": "Data sets",
    "causalminimax.evaluation": "Evaluation protocol",
    "causalminimax.discovery": "Graph discovery",
    "irl_sensitivity": "IRL misspecification analysis",
}


def _shadowed(modname: str) -> bool:
    """True when a parent package exports a callable of the module's name (r3d.monte_carlo)."""
    parent, _, leaf = modname.rpartition(".")
    return bool(parent) and callable(getattr(importlib.import_module(parent), leaf, None))


def _write_api_pages() -> None:
    api = DOCS / "api"
    api.mkdir(exist_ok=True)
    toc = []
    for modname, title in API_MODULES.items():
        module = importlib.import_module(modname)
        names = [
            n
            for n in getattr(module, "__all__", [])
            if not isinstance(getattr(module, n), type(sys))  # submodules get their own page
        ]
        heading = f"``{modname}``: {title}"
        body = [heading, "=" * len(heading), ""]
        if not _shadowed(modname):
            body += [f".. automodule:: {modname}", "   :no-members:", ""]
        body += [f".. currentmodule:: {modname}", "", ".. autosummary::"]
        body += ["   :toctree: generated", ""]
        body += [f"   {n}" for n in sorted(names, key=str.lower)]
        (api / f"{modname}.rst").write_text("\n".join(body) + "\n")
        toc.append(f"   {modname}")
    index = ["API reference", "=============", "", "Every public callable, by module.", ""]
    index += [".. toctree::", "   :maxdepth: 1", "", *toc]
    (api / "index.rst").write_text("\n".join(index) + "\n")


_write_api_pages()

# ---------------------------------------------------------------------------------------
# Examples: the vignettes, executed (full mode unless ESTKIT_DOCS_FAST=1).
prepare_gallery_sources(ROOT / "vignettes", DOCS / "_gallery_src")
os.environ.setdefault("ESTKIT_OUTPUT", tempfile.mkdtemp(prefix="estkit-docs-"))
os.environ["MPLBACKEND"] = "Agg"
if os.environ.get("ESTKIT_DOCS_FAST") == "1":
    os.environ["ESTKIT_VIGNETTE_FAST"] = "1"

sphinx_gallery_conf = {
    "examples_dirs": str(DOCS / "_gallery_src"),
    "gallery_dirs": "examples",
    "filename_pattern": r".*\.py$",
    "image_scrapers": (OutputScraper(),),
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "show_memory": False,
    "plot_gallery": "True",
}
