"""Build the documentation with warnings as errors: CI runs only pytest, so this is the docs build.

A broken docstring (a malformed table, a citation without its reference, bad RST), a page missing from
the toctree or a figure that does not exist fails here with Sphinx's own messages.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REQUIRED = ("sphinx", "myst_parser", "numpydoc", "pydata_sphinx_theme", "sphinx-mathjax-offline")


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


class _RemoteResources(HTMLParser):
    """Collect the ``src``/``href`` of <script>, <link>, <img>, <iframe>, <source>, <embed> and <object>
    that point to the network (http(s) or protocol-relative ``//host``). Plain <a href> links are not loads."""

    TAGS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "embed": "src",
            "object": "data"}

    def __init__(self):
        super().__init__()
        self.remote: list[str] = []

    def handle_starttag(self, tag, attrs):
        attr = self.TAGS.get(tag)
        for name, value in attrs:
            if name == attr and value and _is_remote(value):
                self.remote.append(f"<{tag} {name}={value!r}>")


def _is_remote(url: str) -> bool:
    return bool(re.match(r"\s*(https?:)?//", url, re.IGNORECASE))


_CSS_REMOTE = re.compile(r"""(@import\s+(url\()?|url\()\s*["']?\s*(https?:)?//""", re.IGNORECASE)


def test_no_page_loads_anything_from_the_network(html):
    """A reader offline sees every formula typeset: scripts, stylesheets and fonts all come from the build."""
    pages = sorted(html.rglob("*.html"))
    assert len(pages) > 20
    remote = {}
    for page in pages:
        parser = _RemoteResources()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.remote:
            remote[str(page.relative_to(html))] = parser.remote
    for css in sorted(html.rglob("*.css")):
        hits = [m.group(0) for m in _CSS_REMOTE.finditer(css.read_text(encoding="utf-8", errors="replace"))]
        if hits:
            remote[str(css.relative_to(html))] = hits
    assert not remote, remote


def test_math_is_typeset_by_the_local_mathjax(html):
    page = (html / "theory.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]*\ssrc=\"([^\"]*mathjax[^\"]*)\"", page, re.IGNORECASE)
    assert scripts, "theory.html loads no MathJax"
    for src in scripts:
        assert not _is_remote(src), src
        assert (html / src.split("?")[0]).is_file(), src
    # MathJax 3's CommonHTML output loads its fonts relative to the script: they must be in the build too.
    fonts = list((html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10


def test_public_pages_do_not_point_at_private_names(html):
    private = re.compile(r"renyimi(\.\w+)*\._[a-z]\w*")
    found = {}
    for page in sorted((html / "api").rglob("*.html")):
        text = re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))  # the text a reader sees
        hits = sorted(set(m.group(0) for m in private.finditer(text)))
        if hits:
            found[page.name] = hits
    assert not found, found


def test_narrative_pages_have_no_empty_left_sidebar(html):
    for page in ("index", "getting_started", "theory", "kernel_width"):
        text = (html / f"{page}.html").read_text(encoding="utf-8")
        assert "Section Navigation" not in text, page
