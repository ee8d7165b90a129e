"""The artifacts a user installs: build the sdist and the wheel, install the wheel into a fresh virtual
environment with no source tree on the path, and compute there.

Everything runs offline: the build uses the test environment's setuptools (``python -m build --no-isolation``,
which builds the sdist and then the wheel *from the unpacked sdist*, so a file missing from the sdist breaks the
wheel), the wheel is installed with ``--no-index --no-deps``, and the new environment sees the test environment's
dependencies (NumPy, SciPy, array-api-compat, numba) through a ``.pth`` file that lists their directories. A
``.pth`` file adds its directories to ``sys.path`` but does not run the ``.pth`` files inside them, so the editable
install's finder (which maps ``renyimi`` to the checkout) never runs in the new environment; the test asserts that
the imported ``renyimi`` is the installed one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("build") is None,
                       reason="the 'build' package is not installed: pip install -e '.[test]'"),
    pytest.mark.skipif(not (ROOT / "pyproject.toml").is_file(), reason="needs the source tree (pyproject.toml)"),
]

# Working-tree clutter that is not source: never copied to the build directory.
_JUNK = {".git", ".venv", "venv", "build", "dist", "__pycache__", ".hypothesis", ".pytest_cache", ".asv",
         ".benchmarks", ".mypy_cache", ".ruff_cache", "results", "_build"}


def _version() -> str:
    text = (ROOT / "renyimi" / "_version.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, flags=re.MULTILINE)
    assert match, "renyimi/_version.py must hold one literal assignment __version__ = \"...\""
    return match.group(1)


def _ignore(directory: str, names: list[str]) -> set[str]:
    here = Path(directory)
    skip = {n for n in names if n in _JUNK or n.endswith(".egg-info") or n.endswith((".pyc", ".so"))}
    skip |= {n for n in names if (here / n / "pyvenv.cfg").is_file()}  # any virtual environment in the tree
    if here.name == "api" and here.parent.name == "docs":
        skip.add("generated")  # autosummary output of a docs build
    return skip


def _dependency_dirs() -> list[str]:
    """The directories the test environment imports its packages from (site-packages), source tree excluded."""
    dirs: list[str] = []
    for name in ("numpy", "scipy", "array_api_compat", "numba", "llvmlite"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            dirs.append(str(Path(spec.origin).resolve().parents[1]))
    dirs += [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    source = (ROOT / "renyimi").resolve()
    unique: list[str] = []
    for d in dirs:
        # A site-packages inside the checkout (./.venv) is fine; the directory holding the source package is not.
        if Path(d).is_dir() and d not in unique and (Path(d) / "renyimi").resolve() != source:
            unique.append(d)
    return unique


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> dict[str, Path]:
    """Build the sdist and the wheel from a copy of the tree (the shared checkout stays untouched)."""
    work = tmp_path_factory.mktemp("packaging")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=_ignore)
    out = work / "dist"
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                            cwd=work, capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"python -m build failed:\n{log}"
    version = _version()
    sdist, wheel = out / f"renyimi-{version}.tar.gz", out / f"renyimi-{version}-py3-none-any.whl"
    assert sdist.is_file() and wheel.is_file(), f"expected {sdist.name} and {wheel.name}, found {os.listdir(out)}"
    return {"work": work, "sdist": sdist, "wheel": wheel, "log": log}


def test_build_has_no_deprecation_warning(artifacts):
    lines = [line for line in artifacts["log"].splitlines() if re.search("deprecat", line, flags=re.IGNORECASE)]
    assert not lines, "the build warns about deprecated configuration:\n" + "\n".join(lines)


def test_sdist_contents(artifacts):
    with tarfile.open(artifacts["sdist"]) as tar:
        prefix = f"renyimi-{_version()}/"
        names = {n[len(prefix):] for n in tar.getnames() if n.startswith(prefix)}
        license_text = tar.extractfile(prefix + "LICENSE").read().decode()  # type: ignore[union-attr]
    expected = {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "MANIFEST.in", "renyimi/py.typed",
                "renyimi/_version.py", "docs/conf.py", "docs/index.md", "tests/conftest.py", "examples/_common.py",
                "benchmarks/asv.conf.json"}
    # Every test module, docs page and package module of the tree reaches the packager.
    for pattern in ("tests/*.py", "docs/*.md", "renyimi/**/*.py"):
        expected |= {p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern) if "__pycache__" not in p.parts}
    missing = sorted(expected - names)
    assert not missing, f"the sdist lacks {missing}: add them to MANIFEST.in"
    junk = sorted(n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("docs/_build",
                                                                                                "docs/api/generated")))
    assert not junk, f"the sdist carries build outputs: {junk[:10]}"
    assert license_text == (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_wheel_contents(artifacts):
    version = _version()
    info = f"renyimi-{version}.dist-info"
    with zipfile.ZipFile(artifacts["wheel"]) as whl:
        names = set(whl.namelist())
        metadata = whl.read(f"{info}/METADATA").decode()
        license_text = whl.read(f"{info}/licenses/LICENSE").decode()
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "renyimi").rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted((modules | {"renyimi/py.typed"}) - names)
    assert not missing, f"the wheel lacks {missing}"
    assert not [n for n in names if n.startswith(("tests/", "docs/", "examples/", "benchmarks/"))]
    assert license_text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert re.search(r"^License-Expression: BSD-3-Clause$", metadata, flags=re.MULTILINE), metadata[:800]
    assert re.search(rf"^Version: {re.escape(version)}$", metadata, flags=re.MULTILINE)
    assert re.search(r"^License-File: LICENSE$", metadata, flags=re.MULTILINE)
    for minor in range(10, 14):
        assert f"Classifier: Programming Language :: Python :: 3.{minor}\n" in metadata
    assert not re.search(r"^Classifier: License ::", metadata, flags=re.MULTILINE), "SPDX license only (PEP 639)"


# Runs inside the fresh environment, from an empty directory outside the tree.
_CHECK = textwrap.dedent(
    """
    import importlib.metadata, json, sys
    from pathlib import Path
    import numpy as np
    from scipy.spatial.distance import cdist
    import renyimi

    venv = Path(sys.argv[1]).resolve()
    out = {"file": renyimi.__file__, "version": renyimi.__version__,
           "dist_version": importlib.metadata.version("renyimi"),
           "dist_path": str(importlib.metadata.distribution("renyimi").locate_file("renyimi/__init__.py"))}
    assert Path(renyimi.__file__).resolve().is_relative_to(venv), (renyimi.__file__, sys.path)

    # An estimate against an independent computation: eq. 18 and 20 with fixed widths (no standardisation).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 3)) * [1.0, 2.0, 3.0]
    Y = X[:, :2] + 0.5 * rng.normal(size=(160, 2))

    def gram(Z, s):
        return np.exp(-cdist(Z, Z, "sqeuclidean") / (2 * s * s)) / len(Z)

    def entropy(A, alpha=1.01):
        lam = np.clip(np.linalg.eigvalsh(A), 0, None)
        return float(np.log2(np.sum(lam ** alpha)) / (1 - alpha))

    ax, ay = gram(X, 1.3), gram(Y, 0.7)
    axy = ax * ay / np.trace(ax * ay)
    out["mi"] = float(renyimi.mutual_information(X, Y, sigma=(1.3, 0.7)))
    out["mi_reference"] = entropy(ax) + entropy(ay) - entropy(axy)
    # Closed form: a tiny width makes A = I / N, so the entropy is log2 N for every alpha.
    out["h_tiny"] = float(renyimi.matrix_entropy(X, sigma=1e-6))
    out["log2n"] = float(np.log2(len(X)))
    # The lazy submodules load from the installed package.
    out["submodules"] = [renyimi.kernels.__name__, renyimi.width.__name__, renyimi.theory.__name__]

    try:
        import numba  # noqa: F401
    except ImportError:
        out["numba"] = None
    else:
        G = np.asarray(renyimi.gram_matrix(X, sigma=1.3, backend="numba"))
        from renyimi._engine import numba_kernels
        cache = Path(numba_kernels.__file__).parent / "__pycache__"
        out["numba"] = {"max_abs_diff": float(np.max(np.abs(G - ax))),
                        "module": numba_kernels.__file__,
                        "cache_files": sorted(p.name for p in cache.glob("numba_kernels*.nbi"))}
    print(json.dumps(out))
    """
)


def _new_venv(path: Path) -> Path:
    """A virtual environment with the wheel-installing pip of the test environment (no download)."""
    import venv

    import pip

    with_pip = tuple(int(p) for p in pip.__version__.split(".")[:2]) < (22, 3)  # pip --python needs 22.3
    venv.EnvBuilder(with_pip=with_pip, clear=True).create(path)
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run([str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The test environment's dependencies, without its .pth files (so without the editable finder).
    Path(site, "_renyimi_test_deps.pth").write_text("\n".join(_dependency_dirs()) + "\n", encoding="utf-8")
    return python


def test_installed_wheel_computes_outside_the_tree(artifacts):
    work = artifacts["work"]
    env_dir = work / "venv"
    python = _new_venv(env_dir)
    pip_cmd = ([str(python), "-m", "pip"] if (env_dir / "bin" / "pip").exists() or os.name == "nt"
               else [sys.executable, "-m", "pip", "--python", str(python)])
    result = subprocess.run([*pip_cmd, "install", "--no-index", "--no-deps", "--disable-pip-version-check", "-q",
                             str(artifacts["wheel"])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"installing the wheel failed:\n{result.stdout}\n{result.stderr}"

    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NUMBA_CACHE_DIR"))}
    result = subprocess.run([str(python), "-I", "-c", _CHECK, str(env_dir)], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"the installed wheel failed:\n{result.stdout}\n{result.stderr}"
    out = json.loads(result.stdout.strip().splitlines()[-1])

    installed = Path(out["file"]).resolve()
    assert env_dir.resolve() in installed.parents, f"imported {installed}, not the wheel installed in {env_dir}"
    assert ROOT.resolve() not in installed.parents
    assert Path(out["dist_path"]).resolve() == installed, "the installed distribution is not the imported package"
    assert out["version"] == out["dist_version"] == _version()
    assert out["submodules"] == ["renyimi.kernels", "renyimi.width", "renyimi.theory"]
    assert out["mi"] == pytest.approx(out["mi_reference"], abs=1e-9)
    assert out["mi"] > 0.5  # Y depends on X: a computation, not a zero
    assert out["h_tiny"] == pytest.approx(out["log2n"], abs=1e-9)
    if importlib.util.find_spec("numba") is not None:
        numba_out = out["numba"]
        assert numba_out is not None, "numba is importable here but not in the new environment"
        assert env_dir.resolve() in Path(numba_out["module"]).resolve().parents
        assert numba_out["max_abs_diff"] < 1e-12
        # cache=True kernels write their cache next to the installed module.
        assert numba_out["cache_files"], "no numba cache was written beside the installed numba_kernels.py"
