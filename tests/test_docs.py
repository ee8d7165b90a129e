"""Build the documentation with warnings as errors: CI runs only pytest, so this is the docs build.

A broken docstring (a malformed table, a citation without its reference, bad RST), a page missing from
the toctree or a figure that does not exist fails here with Sphinx's own messages.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REQUIRED = ("sphinx", "myst_parser", "numpydoc", "pydata_sphinx_theme")


def _missing() -> list[str]:
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


pytestmark = pytest.mark.skipif(
    bool(_missing()), reason=f"docs tools not installed ({', '.join(_missing())}): pip install 'renyimi[docs]'"
)


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(out / ".doctrees"), str(DOCS), str(out)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"
    return out


def test_docs_build_without_warnings(html):
    for page in ("index", "getting_started", "theory", "kernel_width", "api"):
        assert (html / f"{page}.html").is_file(), page


def test_every_public_name_has_an_api_page(html):
    sys.path.insert(0, str(DOCS))
    try:
        conf = importlib.import_module("conf")
    finally:
        sys.path.remove(str(DOCS))
    import renyimi

    top = [n for n in renyimi.__all__ if not n.startswith("__")]
    for name in top:
        assert (html / "api" / "generated" / f"renyimi.{name}.html").is_file(), name
    top_objects = [getattr(renyimi, n) for n in top]
    for module_name in conf.API_PAGES:
        module = importlib.import_module(module_name)
        assert (html / "api" / "generated" / f"{module_name}.html").is_file(), module_name
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if name.startswith("__") or any(obj is o for o in top_objects):
                continue  # documented once, at the top level
            assert (html / "api" / "generated" / f"{module_name}.{name}.html").is_file(), f"{module_name}.{name}"


def test_figures_used_by_the_pages_exist():
    for page in DOCS.glob("*.md"):
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("```{figure}"):
                assert (DOCS / line.split("}", 1)[1].strip()).is_file(), (page.name, line)


def test_make_figures_draws_the_theoretical_plane(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")  # the script sets them at import; restored after the test
    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
    make_figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_figures)
    monkeypatch.setattr(make_figures, "OUT", tmp_path)
    make_figures.main(["--only", "theoretical_plane"])
    assert (tmp_path / "theoretical_plane.png").stat().st_size > 10_000
