"""Sphinx configuration of the renyimi documentation.

Build locally (from the repository root)::

    pip install -e '.[docs]'
    sphinx-build -W --keep-going -b html docs docs/_build/html

The API reference is generated from the package itself: for every public module that exists,
``_write_api_pages`` writes one page listing the names in its ``__all__`` into ``api/generated/``
(git-ignored), and autosummary writes one stub per name. A module added to ``_API_MODULES`` (or a
name added to a module's ``__all__``) therefore appears in the reference without editing any page.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

from sphinx.ext import autosummary  # noqa: E402

import renyimi  # noqa: E402

project = "renyimi"
author = "renyimi developers"
copyright = "renyimi developers"
release = version = renyimi.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax 3 (script and fonts) from the PyPI package, copied into _static/mathjax: formulas
    # typeset with no network. tests/test_docs.py checks that no page loads anything remote.
    "sphinx-mathjax-offline",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "README.md"]
templates_path = ["_templates"]
# Pages of the index toctree that other parts of the project write; a missing one is dropped from
# the toctree (see _drop_missing_pages) so that the build passes before it exists.
OPTIONAL_PAGES = ("information_plane", "performance", "examples", "large_samples", "testing_dependence", "cluster",
                  "developer")

# -- MyST --------------------------------------------------------------------------------------
myst_enable_extensions = ["amsmath", "colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# -- autodoc / autosummary / numpydoc ------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types, with units
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # members are documented by the class template below
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc (by default) renames each docstring's ``[1]`` to a unique ``[R<hash>-1]``, so a class page
# whose methods all cite ``[1]`` has no duplicate targets. The renaming widens the text: RST simple
# tables in docstrings must not contain citations (cite below the table instead).

# autosummary's one-line summaries end at the first ". "; the docstrings cite "eq. 17", "Sec. II-B".
autosummary.WELL_KNOWN_ABBREVIATIONS = (*autosummary.WELL_KNOWN_ABBREVIATIONS, "eq.", "eqs.", "Eq.", "Sec.",
                                        "Fig.", "Figs.", "Thm.", "Ref.")

# -- HTML --------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"renyimi {release}"
html_static_path = ["_static"]
html_css_files = ["renyimi.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "secondary_sidebar_items": ["page-toc"],
    # The top bar lists the pages of the index toctree, in order; the first ones are the main
    # sections, the rest go to its "More" menu. Six fit next to the search box at 1400 px.
    "header_links_before_dropdown": 6,
    "show_prev_next": True,
}
# Narrative pages (every top-level page) have no section navigation to show: no left sidebar, so
# their text, code and tables get the width. The API reference keeps its navigation of modules.
html_sidebars = {
    "*": [],
    "api": ["sidebar-nav-bs"],
    "api/**": ["sidebar-nav-bs"],
}
html_show_sourcelink = False

# -- API pages ---------------------------------------------------------------------------------
# (module, title, what it is for); modules that do not exist (yet) are skipped, modules that exist
# but fail to import stop the build.
_API_MODULES = [
    ("renyimi", "Estimators", "Entropies, mutual information and Gram matrices: the functional API "
     "and the scikit-learn-style :class:`renyimi.MatrixMI`."),
    ("renyimi.pairwise", "Many variables", "Mutual information between many pairs of variables, with "
     "each variable's Gram matrix and entropy computed once."),
    ("renyimi.kernels", "Kernels", "Infinitely divisible kernels and their registry."),
    ("renyimi.width", "Kernel-width rules", "Rules that choose the kernel width :math:`\\sigma`; see "
     ":doc:`/kernel_width`."),
    ("renyimi.plane", "Information planes", "Recording information planes during training."),
    ("renyimi.plotting", "Plotting", "Matplotlib figures of information planes (needs ``renyimi[plot]``)."),
    ("renyimi.capture", "Activation capture", "Forward hooks that collect hidden-layer activations of "
     "torch models (needs ``renyimi[torch]``)."),
    ("renyimi.theory", "Autoencoder theory", "The theoretical information plane of autoencoders and "
     "diagnostics of measured planes; see :doc:`/theory`."),
    ("renyimi.stats", "Statistics", "Independence test, bias-corrected and normalised mutual information, "
     "confidence intervals; see :doc:`/testing_dependence`."),
    ("renyimi.distributed", "Dask", "Information planes from stored activations and Gram matrices as Dask arrays "
     "(needs ``renyimi[dask]``); see :doc:`/cluster`."),
    ("renyimi.datasets", "Data sets", "MNIST and Fashion-MNIST loaders."),
]

GENERATED = DOCS / "api" / "generated"


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _shared_keywords_section() -> list[str]:
    """The "Shared keyword arguments" section of the estimators' module docstring, as an RST list.

    That module is found through :func:`renyimi.mutual_information`, so it may be renamed freely.
    """
    doc = inspect.cleandoc(sys.modules[renyimi.mutual_information.__module__].__doc__ or "")
    marker = "Shared keyword arguments"
    if marker not in doc:
        return []
    body = doc.split(marker, 1)[1].lstrip("\n").split("\n", 1)[1]  # drop the underline
    return [".. _shared-keywords:", "", "Shared keyword arguments", "------------------------", "",
            "Every estimator function and :class:`renyimi.MatrixMI` accept these keyword arguments.", "",
            *body.splitlines(), ""]


def _write_page(name: str, title: str, blurb: str, top_objects: list) -> None:
    module = importlib.import_module(name)
    is_top = module is renyimi
    public = [n for n in getattr(module, "__all__", []) if not n.startswith("__")]
    # Names re-exported by ``renyimi`` are documented once, on the top-level page.
    documented = [n for n in public if is_top or all(getattr(module, n) is not o for o in top_objects)]
    documented = [n for n in documented if not inspect.ismodule(getattr(module, n))]
    elsewhere = [n for n in public if n not in documented]
    heading = f"``{name}``: {title}"
    lines = [heading, "=" * len(heading), "", blurb, "", f".. automodule:: {name}", "   :no-members:", "",
             f".. currentmodule:: {name}", ""]
    if documented:
        lines += [".. autosummary::", "   :toctree: .", "   :nosignatures:", ""]
        lines += [f"   {n}" for n in documented] + [""]
    if elsewhere:
        refs = ", ".join(f":obj:`renyimi.{n}`" for n in elsewhere)
        lines += [f"Also public here, documented under :mod:`renyimi`: {refs}.", ""]
    if is_top:
        lines += _shared_keywords_section()
    _write_if_changed(GENERATED / f"{name}.rst", "\n".join(lines))


def _write_if_changed(path: Path, content: str) -> None:
    # Unchanged files keep their mtime, so incremental builds stay incremental.
    if not path.exists() or path.read_text() != content:
        path.write_text(content)


def _write_api_pages() -> list[str]:
    """Write one page per existing public module and ``_toctree.md.inc`` listing them, in order."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    top_objects = [getattr(renyimi, n) for n in renyimi.__all__ if not n.startswith("__")]
    written = [name for name, *_ in _API_MODULES if _module_exists(name)]
    for name, title, blurb in _API_MODULES:
        if name in written:
            _write_page(name, title, blurb, top_objects)
    toctree = ["```{toctree}", ":maxdepth: 1", "", *(f"api/generated/{name}" for name in written), "```", ""]
    _write_if_changed(GENERATED / "_toctree.md.inc", "\n".join(toctree))
    return written


API_PAGES = _write_api_pages()


def _pages_without_sections() -> dict[str, list]:
    """``{docname: []}`` for the API pages of functions and data: their "On this page" box would list
    only the page itself, so they get the width instead (class pages keep it: it lists the methods)."""
    pages = {}
    for name in API_PAGES:
        module = importlib.import_module(name)
        for member in getattr(module, "__all__", []):
            if not inspect.isclass(getattr(module, member, None)):
                pages[f"api/generated/{name}.{member}"] = []
    return pages


html_theme_options["secondary_sidebar_items"] = {"**": ["page-toc"], **_pages_without_sections()}


# -- docstrings citing their module's references ---------------------------------------------------
_REFERENCE = re.compile(r"\[([\w-]+)\]_")
_DEFINITION = re.compile(r"^\.\. \[([\w-]+)\]")


def _module_references(module_name: str) -> dict[str, list[str]]:
    """``{label: lines}`` of the ``.. [label]`` definitions in a module's docstring."""
    module = sys.modules.get(module_name)
    lines = inspect.cleandoc(getattr(module, "__doc__", None) or "").splitlines()
    refs: dict[str, list[str]] = {}
    label = None
    for line in lines:
        match = _DEFINITION.match(line)
        if match:
            label = match.group(1)
            refs[label] = [line]
        elif label and line.startswith("   "):
            refs[label].append(line)
        else:
            label = None
    return refs


def _add_cited_module_references(app, what, name, obj, options, lines) -> None:
    """Copy the module references that a member's docstring cites (``[1]_``) into its References.

    Module docstrings list the papers once; functions cite them as ``[1]_``. On the function's own
    page that footnote would have no target, so its definition is appended here.
    """
    if what == "module":
        return
    text = "\n".join(lines)
    defined = {m.group(1) for line in lines if (m := _DEFINITION.match(line.strip()))}
    missing = [label for label in dict.fromkeys(_REFERENCE.findall(text)) if label not in defined]
    if not missing:
        return
    refs = _module_references(getattr(obj, "__module__", None) or name.rpartition(".")[0])
    found = [line for label in missing if label in refs for line in refs[label]]
    if not found:
        return
    if "References" in lines:
        at = lines.index("References") + 2  # after the underline
        lines[at:at] = ["", *found, ""]
    else:
        lines += ["", "References", "----------", *found, ""]


def _drop_missing_pages(app, docname, source) -> None:
    if docname != root_doc:
        return
    missing = [p for p in OPTIONAL_PAGES if not any((DOCS / f"{p}{ext}").exists() for ext in source_suffix)]
    source[0] = "\n".join(line for line in source[0].splitlines() if line.strip() not in missing) + "\n"


# A footnote text that starts like an enumerator ("N. I. Tapia", "A. Tapia") is parsed by docutils as an
# enumerated list and rendered "14. 1. Tapia"; escaping its first character is the documented fix.
_ENUMERATOR_START = re.compile(r"^(\s*\.\. \[[\w-]+\]\s+)(?=(?:[A-Za-z]|[0-9]+)[.)]\s)")


def _escape_reference_initials(app, what, name, obj, options, lines) -> None:
    lines[:] = [_ENUMERATOR_START.sub(r"\1\\", line) for line in lines]


def _reread_index(app, env, added, changed, removed) -> list[str]:
    # Whether an optional page exists is not a file Sphinx tracks: re-read the index every build.
    return [root_doc]


def setup(app):
    app.connect("source-read", _drop_missing_pages)
    app.connect("env-get-outdated", _reread_index)
    # Before numpydoc (priority 500), which parses the sections.
    app.connect("autodoc-process-docstring", _add_cited_module_references, priority=100)
    app.connect("autodoc-process-docstring", _escape_reference_initials, priority=101)
