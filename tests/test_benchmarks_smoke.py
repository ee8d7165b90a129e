"""Smoke run of the asv suites: every benchmark method runs once at the smallest size.

asv itself is not needed; this keeps the suites importable and working in CI (2 cores, short budget).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
MODULES = sorted(p.stem for p in (BENCHMARKS / "benchmarks").glob("bench_*.py"))
PREFIXES = ("time_", "peakmem_", "track_", "mem_")


def _suite(module_name: str):
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    module = importlib.import_module(f"benchmarks.{module_name}")
    assert Path(module.__file__).parent == BENCHMARKS / "benchmarks"
    return module


def _smallest_combinations(cls):
    """Every parameter combination with the numeric parameters at their smallest values."""
    grid = [[min(values)] if all(isinstance(v, (int, float)) for v in values) and "alpha" != name else values
            for name, values in zip(cls.param_names, cls.params)]
    return list(itertools.product(*grid))


@pytest.fixture
def one_thread():
    """One BLAS/OpenMP thread: on a busy 2-core runner, multithreaded BLAS can be 100x slower."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else None
    with threadpoolctl.threadpool_limits(1):
        if torch:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch:
                torch.set_num_threads(before)


def test_suites_exist():
    assert {"bench_gram", "bench_entropy", "bench_mi", "bench_pairwise"} <= set(MODULES)


@pytest.mark.parametrize("module_name", MODULES)
def test_every_benchmark_runs_once(module_name, one_thread):
    module = _suite(module_name)
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
    ran = 0
    for cls in classes:
        methods = [m for m in dir(cls) if m.startswith(PREFIXES)]
        assert methods, f"{cls.__name__} has no benchmark methods"
        # peakmem_x runs the body of time_x again: once is enough here
        methods = [m for m in methods if not (m.startswith("peakmem_") and "time_" + m[8:] in methods)]
        assert len(cls.params) == len(cls.param_names)
        for combo in _smallest_combinations(cls):
            bench = cls()
            try:
                bench.setup(*combo)
            except NotImplementedError:  # asv's "skipped": backend missing or combination excluded
                continue
            for name in methods:
                value = getattr(bench, name)(*combo)
                if name.startswith("track_"):
                    assert isinstance(value, float) and value == value, f"{cls.__name__}.{name}{combo}"
                ran += 1
    assert ran > 0


def test_asv_configuration_is_valid():
    text = (BENCHMARKS / "asv.conf.json").read_text()
    config = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))  # asv allows // comments
    assert config["benchmark_dir"] == "benchmarks" and config["repo"] == ".."
    assert (BENCHMARKS / config["benchmark_dir"] / "__init__.py").exists()


def test_asv_check_passes():
    """``asv check`` (import and signature checks of every benchmark), in this Python."""
    if importlib.util.find_spec("asv") is None:
        pytest.skip("asv is not installed (pip install 'renyimi[bench]')")
    result = subprocess.run([sys.executable, "-m", "asv", "check", "--environment", "existing:" + sys.executable],
                            cwd=BENCHMARKS, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "No problems found" in result.stdout, result.stdout + result.stderr


def test_sizes_cover_the_issue_range():
    common = _suite("common")
    assert common.SIZES == [256, 512, 1024, 2048, 4096]
    acts = common.autoencoder_activations(16)
    assert [a.shape[1] for a in acts.values()] == list(common.AUTOENCODER)
    assert len(common.information_plane_pairs(acts)) == 14
