r"""Pre-registered claims of Tapia & Estévez (IJCNN 2020) and the machinery that judges them.

Every claim below is written from the paper's text alone: its ``source`` quotes the section, figure and
sentence it comes from; its ``quantity`` says what is measured; each ``Condition`` fixes a threshold and
the direction that supports the claim, with the reason for that value. The thresholds were fixed in this
file before any run of the reproduction that uses it (issue 13) and are not tuned to results; the report
shows, for every threshold, the verdict over a range of values (``sensitivity``) so that a reader can see
how much a verdict depends on it.

Conventions shared by all claims
--------------------------------
* **Fractions of M.** MI differences in the information planes are expressed as fractions of the input
  information :math:`M = \hat I(X;X)` of the same setting (Sec. II-B of the paper: the plane's scale),
  so that settings whose estimates live on different scales (the previous and the proposed kernel-width
  rule) are compared on one footing.
* **Reading tolerance** :math:`\tau = 0.10`. The paper reads its figures by eye ("closer to", "mostly
  disappears", "no compression phase"). A tenth of the plane's scale is about the smallest difference
  one can read off Figs. 6, 7 and 9 at print size; statements of equality ("equal", "together") are
  read as "within :math:`\tau M`", statements of existence ("a compression phase", "shrinks") as "larger
  than :math:`\tau M`".
* **Compression** is a fall of a layer's input MI *after a fitting phase* (Sec. I: "fitting and
  compression. The former corresponds to increasing both I(T;Y) and I(X;T), whereas the latter
  corresponds to decreasing I(X;T)"). How the phase is found: the fitting phase of a layer has begun at
  the first measured iteration where its input MI is at least :math:`\delta M` above its lowest earlier
  value (:math:`\delta = 0.05`, half the reading tolerance: a rise must be visible before a fall can
  follow it). The compression is then the fall from the largest input MI measured from that iteration
  on, to the final measurement. A layer whose input MI never rises by :math:`\delta M` has no fitting
  phase and no compression, whatever it loses from initialisation. The output-MI half of the definition
  is not used (Lemma 1 makes every layer's output MI the same quantity, judged on its own).
* **Final** values are the last measured iteration (no smoothing: the quick run measures too sparsely
  for the paper's relative Hann window to hold 5 points, so nothing is smoothed and no criterion uses
  smoothed curves).
* **Uncertainty.** Every quantity is computed on the mean over seeds and evaluation batches; its 95 %
  interval is a percentile bootstrap that resamples seeds and, within each seed, evaluation batches
  (for the correlated Gaussians: independent runs). A condition is *supported* when the whole interval
  lies on the supporting side of its threshold, *not supported* when the whole interval lies on the
  other side, and *inconclusive* otherwise. A claim is supported when all its conditions are, not
  supported when any is not, and inconclusive otherwise. With 3 seeds the seed-level resampling has few
  distinct outcomes and the intervals are optimistic; the medium scale uses 5.

Variants (pooled standardisation of the grey images = the paper's setting and the headline; per-pixel
standardisation = ablation; other data sets) are judged with the same criteria and reported beside the
headline verdict; they are not extra claims.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)

TAU = 0.10                      # reading tolerance, fraction of M (see the module docstring)
TAU_RANGE = (0.025, 0.05, 0.10, 0.20, 0.40)
DELTA_FIT = 0.05                # rise that marks a fitting phase, fraction of M
DELTA_RANGE = (0.02, 0.05, 0.10)
PAPER_CRITICAL_K = 13           # Sec. IV-B: "K = 13 is an approximation of the intrinsic dimensionality"
HEADLINE = "paper"              # proposed rule, grey images standardised with pooled statistics
ABLATION = "per_pixel"          # proposed rule, every pixel standardised on its own
PREVIOUS = "old"                # previous rule (eq. 27), gamma 5 and 25 for Z


@dataclass(frozen=True)
class Condition:
    """One test of a claim: ``value <relation> threshold`` supports the claim."""

    name: str                   # key of the value returned by the claim's quantity function
    relation: str               # ">=" or "<="
    threshold: float
    unit: str
    text: str                   # the condition in words
    sensitivity: tuple[float, ...] = ()

    def __post_init__(self):
        if self.relation not in (">=", "<="):
            raise ValueError(f"relation must be '>=' or '<='; got {self.relation!r}.")


@dataclass(frozen=True)
class Claim:
    """A statement of the paper with the quantity and the conditions that judge it."""

    id: str
    statement: str
    source: str
    quantity: str
    rationale: str
    conditions: tuple[Condition, ...]
    compute: Callable                     # (means: dict, meta: dict, setting: str, params: dict) -> dict
    needs: Callable                       # (meta, setting) -> list of evidence keys
    primary: str                          # returned value reported as the claim's estimate
    primary_unit: str
    params: Mapping[str, tuple[float, tuple[float, ...]]] = field(default_factory=dict)
    figures: tuple[str, ...] = ()
    variants: bool = True                 # judged again under the per-pixel ablation

    @property
    def criterion(self) -> str:
        parts = [f"{c.text} ({c.name} {c.relation} {c.threshold:g} {c.unit})" for c in self.conditions]
        return "; and ".join(parts) + ", for the whole 95 % interval"


# ------------------------------------------------------------------------------------ bootstrap
def resampled_means(arrays: Mapping[str, np.ndarray], n_boot: int, seed: int = 0):
    """Hierarchical bootstrap of the mean over axes 0 (seeds or runs) and 1 (evaluation batches).

    Every array has shape ``(S, B, ...)`` with the same ``S`` and ``B``; one draw resamples ``S`` seeds
    with replacement and, within each drawn seed, ``B`` batches with replacement; the same draw is used
    for every array (paired). Yields ``n_boot`` dicts of resampled means.
    """
    shapes = {k: a.shape[:2] for k, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"arrays must share (seeds, batches); got {shapes}.")
    S, B = next(iter(shapes.values()))
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, 200))
    done = 0
    while done < n_boot:
        n = min(chunk, n_boot - done)
        seeds = rng.integers(0, S, size=(n, S))
        batches = rng.integers(0, B, size=(n, S, B))
        means = {k: a[seeds[:, :, None], batches].mean(axis=(1, 2)) for k, a in arrays.items()}
        for i in range(n):
            yield {k: m[i] for k, m in means.items()}
        done += n


def full_means(arrays: Mapping[str, np.ndarray]) -> dict:
    return {k: np.asarray(a, dtype=float).mean(axis=(0, 1)) for k, a in arrays.items()}


def interval(samples: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Percentile interval; infinite samples are kept (``method="nearest"`` avoids inf - inf)."""
    x = np.asarray([np.nan if v is None else v for v in samples], dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (math.nan, math.nan)
    a = (1 - level) / 2
    lo, hi = np.quantile(x, [a, 1 - a], method="nearest")
    return float(lo), float(hi)


def condition_verdict(lo: float, hi: float, relation: str, threshold: float) -> str:
    """Supported if the interval [lo, hi] lies on the supporting side of ``threshold``."""
    if math.isnan(lo) or math.isnan(hi):
        return INCONCLUSIVE
    if relation == "<=":
        return SUPPORTED if hi <= threshold else NOT_SUPPORTED if lo > threshold else INCONCLUSIVE
    return SUPPORTED if lo >= threshold else NOT_SUPPORTED if hi < threshold else INCONCLUSIVE


def combine(verdicts: Sequence[str]) -> str:
    if any(v == NOT_SUPPORTED for v in verdicts):
        return NOT_SUPPORTED
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return INCONCLUSIVE


def _bootstrap(claim: Claim, arrays, meta, setting, params, n_boot, seed):
    point = claim.compute(full_means(arrays), meta, setting, params)
    samples: dict[str, list] = {k: [] for k in point}
    for means in resampled_means(arrays, n_boot, seed):
        values = claim.compute(means, meta, setting, params)
        for k in samples:
            samples[k].append(values.get(k))
    cis = {k: interval(v) for k, v in samples.items()}
    return point, cis


def _verdict(claim: Claim, cis: dict, overrides: Mapping[str, float] | None = None) -> str:
    overrides = overrides or {}
    return combine([condition_verdict(*cis[c.name], c.relation, overrides.get(c.name, c.threshold))
                    for c in claim.conditions])


def evaluate(claim: Claim, evidence: Mapping[str, np.ndarray], meta: dict, setting: str = HEADLINE, *,
             n_boot: int = 1000, seed: int = 0, sensitivity: bool = True) -> dict:
    """Judge ``claim`` on ``evidence`` (arrays ``(S, B, ...)``); a JSON-ready dict."""
    arrays = {k: np.asarray(evidence[k], dtype=float) for k in claim.needs(meta, setting)}
    params = {k: v for k, (v, _) in claim.params.items()}
    point, cis = _bootstrap(claim, arrays, meta, setting, params, n_boot, seed)
    verdict = _verdict(claim, cis)
    out = {
        "id": claim.id, "verdict": verdict, "statement": claim.statement, "source": claim.source,
        "quantity": claim.quantity, "criterion": claim.criterion, "rationale": claim.rationale,
        "setting": setting,
        "estimate": {"name": claim.primary, "value": _num(point[claim.primary]), "ci": list(map(_num,
                     cis[claim.primary])), "unit": claim.primary_unit, "level": 0.95},
        "conditions": [{"name": c.name, "relation": c.relation, "threshold": c.threshold, "unit": c.unit,
                        "text": c.text, "value": _num(point[c.name]), "ci": list(map(_num, cis[c.name])),
                        "verdict": condition_verdict(*cis[c.name], c.relation, c.threshold)}
                       for c in claim.conditions],
        "values": {k: _num(v) for k, v in point.items()},
        "cis": {k: list(map(_num, v)) for k, v in cis.items()},
        "figures": list(claim.figures),
    }
    if sensitivity:
        sens = {}
        for c in claim.conditions:
            values = sorted({*c.sensitivity, c.threshold})
            sens[c.name] = {"threshold": c.threshold, "unit": c.unit,
                            "verdicts": {f"{t:g}": _verdict(claim, cis, {c.name: t}) for t in values}}
        for name, (value, alternatives) in claim.params.items():
            row = {}
            for alt in sorted({*alternatives, value}):
                if alt == value:
                    row[f"{alt:g}"] = verdict
                    continue
                p = {**params, name: alt}
                _, alt_cis = _bootstrap(claim, arrays, meta, setting, p, max(200, n_boot // 4), seed)
                row[f"{alt:g}"] = _verdict(claim, alt_cis)
            sens[name] = {"threshold": value, "unit": "fraction of M", "verdicts": row}
        out["sensitivity"] = sens
    return out


def _num(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else (None if math.isnan(v) else (1e308 if v > 0 else -1e308))


# ---------------------------------------------------------------------------------- quantities
def compression_after_fitting(x: np.ndarray, rise: float) -> tuple[float, int | None]:
    """Fall of ``x`` (one layer's input MI over the measured iterations) after its fitting phase.

    The fitting phase has begun at the first index ``j`` with ``x[j] - min(x[:j+1]) >= rise``; the
    compression is ``max(x[j:]) - x[-1]``; ``(0.0, None)`` if there is no such ``j``.
    Returns ``(compression, index of the peak)``.
    """
    x = np.asarray(x, dtype=float)
    fitted = np.nonzero(x - np.minimum.accumulate(x) >= rise)[0]
    if fitted.size == 0:
        return 0.0, None
    j0 = int(fitted[0])
    peak = j0 + int(np.argmax(x[j0:]))
    return float(x[peak] - x[-1]), peak


def critical_k(Ks: Sequence[float], c: Sequence[float], threshold: float) -> float:
    """Smallest K (linear interpolation in log K) where ``c`` first falls to ``threshold``; inf if never."""
    Ks, c = np.asarray(Ks, dtype=float), np.asarray(c, dtype=float)
    if c[0] <= threshold:
        return float(Ks[0])
    for i in range(1, len(Ks)):
        if c[i] <= threshold:
            t = (c[i - 1] - threshold) / (c[i - 1] - c[i])
            return float(math.exp(math.log(Ks[i - 1]) + t * (math.log(Ks[i]) - math.log(Ks[i - 1]))))
    return math.inf


def largest_dpi_violation(input_mi: np.ndarray) -> np.ndarray:
    """Per step, the largest forward-DPI violation ``max_{i<j} (I(X;T_j) - I(X;T_i))^+``; input (T, L)."""
    running_min = np.minimum.accumulate(input_mi, axis=1)
    excess = input_mi[:, 1:] - running_min[:, :-1]
    return np.maximum(excess.max(axis=1), 0.0)


def _plane_keys(setting, Ks, parts=("in", "out", "M")):
    return [f"plane/{setting}/K{K}/{p}" for K in Ks for p in parts]


def _M(means, key):
    return float(np.mean(means[key]))


def _small(meta):
    return min(meta["plane_Ks"])


def _large(meta):
    return max(meta["plane_Ks"])


# -- Gaussians
def _q_saturation(means, meta, setting, params):
    d = max(meta["gauss_dims"])
    log2n = math.log2(meta["gauss_n"])
    out = {"gap_to_log2_N": log2n - float(np.mean(means[f"gauss/old/d{d}"]))}
    if f"gauss/old/d{sorted(meta['gauss_dims'])[-2]}" in means:
        d2 = sorted(meta["gauss_dims"])[-2]
        out[f"gap_to_log2_N_d{d2}"] = log2n - float(np.mean(means[f"gauss/old/d{d2}"]))
    return out


def _q_shape(means, meta, setting, params):
    d = max(meta["gauss_dims"])
    rhos = np.asarray(meta["rhos"], dtype=float)
    est = means[f"gauss/paper/d{d}"]
    truth = -0.5 * d * np.log2(1 - rhos**2)
    r = float(np.corrcoef(est, truth)[0, 1]) if np.std(est) > 0 else 0.0
    return {"shape_correlation": r, "gap_to_log2_N": math.log2(meta["gauss_n"]) - float(np.max(est))}


def _q_resolution(means, meta, setting, params):
    ranges = [float(np.ptp(means[f"gauss_n/N{n}"])) for n in meta["gauss_sizes"]]
    out = {"smallest_increase": float(np.min(np.diff(ranges)))}
    out.update({f"range_N{n}": r for n, r in zip(meta["gauss_sizes"], ranges, strict=True)})
    return out


# -- planes
def _q_lemma1(means, meta, setting, params):
    out = {}
    for K in meta["plane_Ks"]:
        o = means[f"plane/{setting}/K{K}/out"]
        M = _M(means, f"plane/{setting}/K{K}/M")
        out[f"final_spread_K{K}"] = float(np.ptp(o[-1])) / M
        out[f"mean_spread_over_steps_K{K}"] = float(np.ptp(o, axis=1).mean()) / M
    out["final_output_spread"] = max(out[f"final_spread_K{K}"] for K in meta["plane_Ks"])
    return out


def _q_feasible(means, meta, setting, params):
    out = {}
    for K in meta["plane_Ks"]:
        i, o = means[f"plane/{setting}/K{K}/in"][-1], means[f"plane/{setting}/K{K}/out"][-1]
        M = _M(means, f"plane/{setting}/K{K}/M")
        out[f"above_bisector_K{K}"] = float(np.max(o - i)) / M
        out[f"right_of_M_K{K}"] = float(np.max(i - M)) / M
    out["largest_excursion"] = max(max(out[f"above_bisector_K{K}"], out[f"right_of_M_K{K}"])
                                   for K in meta["plane_Ks"])
    return out


def _compressions(means, setting, K, delta):
    x = means[f"plane/{setting}/K{K}/in"]
    M = _M(means, f"plane/{setting}/K{K}/M")
    return np.array([compression_after_fitting(x[:, j], delta * M)[0] for j in range(x.shape[1])]) / M


def _q_large_no_compression(means, meta, setting, params):
    c = _compressions(means, setting, _large(meta), params["delta_fit"])
    return {"largest_compression": float(c.max()),
            **{f"compression_{n}": float(v) for n, v in zip(meta["layers"], c, strict=True)}}


def _q_large_together(means, meta, setting, params):
    K = _large(meta)
    i, o = means[f"plane/{setting}/K{K}/in"][-1], means[f"plane/{setting}/K{K}/out"][-1]
    M = _M(means, f"plane/{setting}/K{K}/M")
    return {"final_input_spread": float(np.ptp(i)) / M, "largest_bisector_gap": float(np.max(np.abs(i - o))) / M,
            "mean_distance_to_M": float(np.mean(np.abs(i - M))) / M}


def _q_small_sequence(means, meta, setting, params):
    K, k = _small(meta), meta["n_encoder"]
    enc = means[f"plane/{setting}/K{K}/in"][-1, :k]
    M = _M(means, f"plane/{setting}/K{K}/M")
    return {"encoder_drop": float(enc[0] - enc[-1]) / M, "largest_encoder_rise": float(np.max(np.diff(enc))) / M}


def _q_small_decoder(means, meta, setting, params):
    K, k = _small(meta), meta["n_encoder"]
    i = means[f"plane/{setting}/K{K}/in"][-1]
    M = _M(means, f"plane/{setting}/K{K}/M")
    return {"largest_decoder_gap": float(np.max(np.abs(i[k:] - i[k - 1]))) / M,
            "mean_decoder_minus_Z": float(np.mean(i[k:] - i[k - 1])) / M}


def _q_small_compression(means, meta, setting, params):
    k = meta["n_encoder"]
    c = _compressions(means, setting, _small(meta), params["delta_fit"])
    return {"encoder_compression": float(c[:k].max()), "decoder_compression": float(c[k:].max()),
            **{f"compression_{n}": float(v) for n, v in zip(meta["layers"], c, strict=True)}}


def _q_old_compression(means, meta, setting, params):
    c = _compressions(means, PREVIOUS, _large(meta), params["delta_fit"])
    return {"largest_compression": float(c.max()),
            **{f"compression_{n}": float(v) for n, v in zip(meta["layers"], c, strict=True)}}


def _q_variance(means, meta, setting, params):
    K = _large(meta)
    x, v = means[f"plane/{PREVIOUS}/K{K}/in"], np.log(np.maximum(means[f"plane/{PREVIOUS}/K{K}/var"], 1e-300))
    r = []
    for j in range(x.shape[1]):
        ok = np.std(x[:, j]) > 0 and np.std(v[:, j]) > 0
        r.append(float(np.corrcoef(x[:, j], v[:, j])[0, 1]) if ok else 0.0)
    return {"mean_correlation": float(np.mean(r)), **{f"r_{n}": c for n, c in zip(meta["layers"], r, strict=True)}}


def _q_dpi(means, meta, setting, params):
    out = {}
    for s in (PREVIOUS, setting):
        sizes = []
        for K in meta["plane_Ks"]:
            M = _M(means, f"plane/{s}/K{K}/M")
            v = largest_dpi_violation(means[f"plane/{s}/K{K}/in"]) / M
            out[f"mean_violation_{'previous' if s == PREVIOUS else 'proposed'}_K{K}"] = float(v.mean())
            out[f"violating_steps_{'previous' if s == PREVIOUS else 'proposed'}_K{K}"] = float(np.sum(v > 0))
            sizes.append(v.mean())
        out["previous" if s == PREVIOUS else "proposed"] = float(np.mean(sizes))
    out["reduction"] = out["previous"] - out["proposed"]
    return out


def _sweep_final(means, setting):
    return means[f"sweep/{setting}/in"], means[f"sweep/{setting}/out"], means[f"sweep/{setting}/M"]


def _q_grows(means, meta, setting, params):
    _, o, M = _sweep_final(means, setting)
    mean_out = o.mean(axis=1)
    return {"output_mi_increase": float(mean_out[-1] - mean_out[0]) / float(np.mean(M)),
            "z_input_mi_increase": float(means[f"sweep/{setting}/in"][-1, meta["n_encoder"] - 1]
                                         - means[f"sweep/{setting}/in"][0, meta["n_encoder"] - 1])
            / float(np.mean(M))}


def _q_critical(means, meta, setting, params):
    i, M = means[f"sweep/{setting}/in"], means[f"sweep/{setting}/M"]
    k = meta["n_encoder"]
    Ks = meta["sweep_Ks"]
    c = np.ptp(i[:, :k - 1], axis=1) / M
    c_z = np.ptp(i[:, :k], axis=1) / M
    ks = critical_k(Ks, c, params["tau_critical"])
    ks_z = critical_k(Ks, c_z, params["tau_critical"])
    return {"critical_K": ks, "octaves_from_13": abs(math.log2(ks / PAPER_CRITICAL_K)) if math.isfinite(ks)
            else math.inf, "critical_K_with_Z": ks_z,
            **{f"encoder_spread_K{K}": float(v) for K, v in zip(Ks, c, strict=True)}}


def _tau_condition(name, relation, text):
    return Condition(name, relation, TAU, "fraction of M", text, TAU_RANGE)


def _gauss_needs(meta, setting):
    return [f"gauss/old/d{d}" for d in meta["gauss_dims"]]


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="saturation_previous_rule",
        statement="With the previous kernel-width rule (eq. 27) the estimate saturates at log2 N in high "
                  "dimensions.",
        source="Sec. IV-A, Fig. 3: 'the previous rule (27) is affected by the saturation effect described "
               "in Sec. III-B because the estimations grow close to log2(128) = 7 for d = 100 and almost "
               "exactly for d = 1000.'",
        quantity="log2 N minus the estimate (mean over rho and runs) at d = 1000, previous rule "
                 "gamma = 2 sqrt(10), N = 128, bits",
        rationale="'Almost exactly' log2 N: within 0.1 bit of 7 bits (1.4 %), less than a line width in "
                  "Fig. 3.",
        conditions=(Condition("gap_to_log2_N", "<=", 0.1, "bits", "the estimate is within 0.1 bit of log2 N",
                              (0.01, 0.05, 0.1, 0.2, 0.5)),),
        compute=_q_saturation, needs=_gauss_needs, primary="gap_to_log2_N", primary_unit="bits",
        figures=("fig3_correlated_gaussians.png",), variants=False),
    Claim(
        id="proposed_rule_keeps_shape",
        statement="With the proposed rule (eqs. 29-30) the estimate is not saturated and keeps the shape of "
                  "the theoretical MI curve in high dimensions.",
        source="Sec. IV-A, Fig. 3: 'Even with the proposed rule, the estimations do not grow linearly with d "
               "... However, it can compensate the dimensionality effect to approximate the expected shape "
               "of the curve.'",
        quantity="at d = 1000, proposed rule gamma = 2: Pearson correlation over rho between the mean "
                 "estimate and the closed form (eq. 31); and log2 N minus the largest mean estimate, bits",
        rationale="The paper claims the shape, not the level: a correlation of at least 0.9 means the "
                  "estimate is an affine image of the theoretical curve up to 19 % of its variance. Not "
                  "saturated: at least 1 bit below log2 N (the previous rule is 'almost exactly' at it).",
        conditions=(Condition("shape_correlation", ">=", 0.9, "", "the estimate follows the closed form's "
                              "shape over rho", (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)),
                    Condition("gap_to_log2_N", ">=", 1.0, "bits", "it stays at least 1 bit below log2 N",
                              (0.5, 1.0, 2.0, 4.0))),
        compute=_q_shape, needs=lambda meta, s: [f"gauss/paper/d{max(meta['gauss_dims'])}"],
        primary="shape_correlation", primary_unit="", figures=("fig3_correlated_gaussians.png",),
        variants=False),
    Claim(
        id="resolution_grows_with_N",
        statement="The resolution of the estimate (its range over rho) grows with the number of samples N.",
        source="Sec. IV-A, Fig. 4: 'The estimated MI for d = 100 using the proposed rule is shown in Fig. 4 "
               "after increasing the number of samples from 128 to 256 and 512. The resolution progressively "
               "increases'.",
        quantity="smallest increase, between consecutive N in (128, 256, 512), of the range over rho of "
                 "the mean estimate (d = 100, proposed rule), bits",
        rationale="'Progressively increases': every step up in N widens the range; any increase counts, "
                  "so the threshold is 0 bits.",
        conditions=(Condition("smallest_increase", ">=", 0.0, "bits", "each larger N has a wider range",
                              (0.0, 0.005, 0.01, 0.02, 0.05)),),
        compute=_q_resolution, needs=lambda meta, s: [f"gauss_n/N{n}" for n in meta["gauss_sizes"]],
        primary="smallest_increase", primary_unit="bits", figures=("fig4_sample_sizes.png",), variants=False),
    Claim(
        id="lemma1_equal_output_mi",
        statement="Every hidden layer has the same output MI (Lemma 1: I(T;X') = I(X;X') for every T).",
        source="Sec. II-A, Lemma 1; Sec. IV-B: 'the theoretical analysis predicts that all layers have the "
               "same output MI at every iteration, and this was particularly violated in Fig. 7b.'",
        quantity="spread (max - min over the 7 hidden layers) of the final output MI, fraction of M; the "
                 "larger of K = 2 and K = 32",
        rationale="Equality read at the reading tolerance tau; Lemma 1 holds for every K, so the worse K "
                  "decides.",
        conditions=(_tau_condition("final_output_spread", "<=", "the final output MIs of all layers agree "
                                   "within tau M"),),
        compute=_q_lemma1, needs=lambda meta, s: _plane_keys(s, meta["plane_Ks"], ("out", "M")),
        primary="final_output_spread", primary_unit="fraction of M",
        figures=("fig7_planes.png", "fig_dynamics.png")),
    Claim(
        id="feasible_region",
        statement="Every layer lies in the feasible region: below the bisector I(T;X') <= I(X;T) and left "
                  "of I(X;T) = M.",
        source="Sec. II-B: 'the curves are restricted to the region below the bisector ... Furthermore, "
               "I(X;X) >= I(X;T), implying that the curves are restricted to the left of the vertical line "
               "I(X;T) = M.' (Fig. 1)",
        quantity="largest excursion outside the triangle at the final measurement, max over layers and "
                 "K in (2, 32) of max(I(T;X') - I(X;T), I(X;T) - M), fraction of M",
        rationale="A bound of MI; the estimator may cross it by less than the reading tolerance tau.",
        conditions=(_tau_condition("largest_excursion", "<=", "no layer is more than tau M outside the "
                                   "feasible triangle"),),
        compute=_q_feasible, needs=lambda meta, s: _plane_keys(s, meta["plane_Ks"]),
        primary="largest_excursion", primary_unit="fraction of M", figures=("fig7_planes.png",)),
    Claim(
        id="large_K_no_compression",
        statement="With the proposed rule and a large bottleneck (K = 32) there is no compression phase.",
        source="Sec. IV-B (Fig. 7c-d): 'In particular, there is no compression phase for a large K.'; Sec. V: "
               "'compression was not observed when K was large enough to allow near perfect "
               "reconstruction.'",
        quantity="largest compression after a fitting phase over the 7 layers, K = 32, fraction of M",
        rationale="'No compression phase': no layer falls by more than the reading tolerance tau after its "
                  "fitting phase (fitting and compression as defined in the module docstring).",
        conditions=(_tau_condition("largest_compression", "<=", "no layer loses more than tau M after its "
                                   "fitting phase"),),
        compute=_q_large_no_compression, needs=lambda meta, s: _plane_keys(s, [_large(meta)], ("in", "M")),
        primary="largest_compression", primary_unit="fraction of M",
        params={"delta_fit": (DELTA_FIT, DELTA_RANGE)}, figures=("fig_dynamics.png", "fig7_planes.png")),
    Claim(
        id="large_K_together_on_bisector",
        statement="With a large bottleneck (K = 32) all layers converge together onto the bisector "
                  "(input MI = output MI, the same for every layer).",
        source="Sec. II-B, Theorem 1a: 'every IP curve will converge to the same input MI and output MI'; "
               "Sec. IV-B (Fig. 9): 'Beyond this size, all layers are mostly stabilized in their maximum "
               "value, where the input MI and the output MI are equal.'",
        quantity="at K = 32, final measurement: spread of the input MI over the 7 layers; and the largest "
                 "|I(X;T) - I(T;X')| over layers; fractions of M",
        rationale="'The same' and 'equal' read at the reading tolerance tau. The distance to the estimated "
                  "M is reported but not judged: Sec. IV-A says to expect tendencies, not exact values.",
        conditions=(_tau_condition("final_input_spread", "<=", "the layers' final input MIs agree within "
                                   "tau M"),
                    _tau_condition("largest_bisector_gap", "<=", "every layer ends within tau M of the "
                                   "bisector")),
        compute=_q_large_together, needs=lambda meta, s: _plane_keys(s, [_large(meta)]),
        primary="largest_bisector_gap", primary_unit="fraction of M", figures=("fig7_planes.png",)),
    Claim(
        id="small_K_encoder_sequence",
        statement="With a small bottleneck (K = 2) the final input MI decreases along the encoder, from T1E "
                  "down to Z (Theorem 1b, eq. 14).",
        source="Sec. IV-B (Fig. 7a): 'For K = 2, there is a visible restriction on the information that can "
               "be transferred through the bottleneck layer that results in the compression observed in "
               "the sequence of encoder layers.'; Theorem 1b, eq. (14).",
        quantity="at K = 2, final measurement: I(X;T1E) - I(X;Z); and the largest increase between "
                 "consecutive encoder layers (T1E, T2E, T3E, Z); fractions of M",
        rationale="'Visible' compression: a decrease larger than the reading tolerance tau; the chain of "
                  "eq. (14) may not rise by more than tau between consecutive layers.",
        conditions=(_tau_condition("encoder_drop", ">=", "the input MI falls by at least tau M from T1E "
                                   "to Z"),
                    _tau_condition("largest_encoder_rise", "<=", "it does not rise by more than tau M "
                                   "between consecutive encoder layers")),
        compute=_q_small_sequence, needs=lambda meta, s: _plane_keys(s, [_small(meta)], ("in", "M")),
        primary="encoder_drop", primary_unit="fraction of M", figures=("fig7_planes.png",)),
    Claim(
        id="small_K_decoder_keeps_lambda",
        statement="With a small bottleneck (K = 2) every decoder layer keeps the input MI of the bottleneck, "
                  "I(X;T_D) = I(X;Z) = lambda (Theorem 1b, eq. 15).",
        source="Sec. II-A, Theorem 1b, eq. (15); Sec. II-B: 'the input MIs of the decoder will converge to "
               "the same value I(X;T_D) = lambda'; Sec. V: 'compression was observed for small K and only on "
               "the encoder layers'.",
        quantity="at K = 2, final measurement: largest |I(X;T_D) - I(X;Z)| over the decoder layers, "
                 "fraction of M",
        rationale="Equality read at the reading tolerance tau.",
        conditions=(_tau_condition("largest_decoder_gap", "<=", "every decoder layer ends within tau M of "
                                   "I(X;Z)"),),
        compute=_q_small_decoder, needs=lambda meta, s: _plane_keys(s, [_small(meta)], ("in", "M")),
        primary="largest_decoder_gap", primary_unit="fraction of M", figures=("fig7_planes.png",)),
    Claim(
        id="small_K_compression_only_in_encoder",
        statement="With a small bottleneck (K = 2) a compression phase appears in the encoder layers and "
                  "not in the decoder layers.",
        source="Sec. V: 'Instead, compression was observed for small K and only on the encoder layers, which "
               "was linked to the loss of information imposed by the small bottleneck size.' (read here as "
               "the compression phase of Sec. I, over training; the layer-sequence reading is "
               "small_K_encoder_sequence)",
        quantity="at K = 2: largest compression after a fitting phase over the encoder layers (T1E-Z) and "
                 "over the decoder layers (T1D-T3D), fractions of M",
        rationale="Existence and absence of a compression phase, both at the reading tolerance tau.",
        conditions=(_tau_condition("encoder_compression", ">=", "some encoder layer loses at least tau M "
                                   "after its fitting phase"),
                    _tau_condition("decoder_compression", "<=", "no decoder layer loses more than tau M "
                                   "after its fitting phase")),
        compute=_q_small_compression, needs=lambda meta, s: _plane_keys(s, [_small(meta)], ("in", "M")),
        primary="encoder_compression", primary_unit="fraction of M",
        params={"delta_fit": (DELTA_FIT, DELTA_RANGE)}, figures=("fig_dynamics.png",)),
    Claim(
        id="previous_rule_compression_large_K",
        statement="With the previous rule (eq. 27; gamma 5, 25 for Z) and a large bottleneck (K = 32) the "
                  "layers show a compression phase.",
        source="Sec. IV-B (Fig. 6c-d): 'for a large K the layers show a compression phase towards the "
               "bisector' (replicating Yu & Principe 2019).",
        quantity="largest compression after a fitting phase over the 7 layers, previous rule, K = 32, "
                 "fraction of M",
        rationale="Existence of a compression phase at the reading tolerance tau.",
        conditions=(_tau_condition("largest_compression", ">=", "some layer loses at least tau M after its "
                                   "fitting phase"),),
        compute=_q_old_compression, needs=lambda meta, s: _plane_keys(PREVIOUS, [_large(meta)], ("in", "M")),
        primary="largest_compression", primary_unit="fraction of M",
        params={"delta_fit": (DELTA_FIT, DELTA_RANGE)}, figures=("fig6_planes_old_rule.png", "fig_dynamics.png"),
        variants=False),
    Claim(
        id="variance_tracks_previous_rule",
        statement="Under the previous rule the layers' input MI moves with their activation variance "
                  "(K = 32).",
        source="Sec. IV-B (Fig. 8): 'A correlation between variance and the estimations was found ... for "
               "K = 32, the variance starts to decrease after an initial increasing phase, which correlates "
               "with the compression phase in Figs. 6c-d.'",
        quantity="Pearson correlation over the measured iterations between each layer's input MI (previous "
                  "rule) and the log of its mean activation variance, averaged over the 7 layers, K = 32",
        rationale="The paper reports 'a correlation'; r >= 0.5 is the conventional lower limit of a large "
                  "correlation (Cohen 1988).",
        conditions=(Condition("mean_correlation", ">=", 0.5, "", "the mean correlation is large",
                              (0.3, 0.5, 0.7, 0.9)),),
        compute=_q_variance, needs=lambda meta, s: [f"plane/{PREVIOUS}/K{_large(meta)}/in",
                                                    f"plane/{PREVIOUS}/K{_large(meta)}/var"],
        primary="mean_correlation", primary_unit="", figures=("fig8_variance.png",), variants=False),
    Claim(
        id="dpi_violations_smaller",
        statement="Forward-DPI violations (a later layer with more input MI than an earlier one) are smaller "
                  "under the proposed rule than under the previous rule.",
        source="Sec. IV-B: 'in Fig. 6d, the layer TD3 has a significantly higher input information than Z, "
               "which is theoretically impossible because it violates the DPI. Conversely, this situation "
               "is less significant in the correction shown in Fig. 7d'; 'The DPIs of the autoencoder with "
               "the proposed rule are better approximated than in [7]'.",
        quantity="size of the largest forward-DPI violation at each measured iteration (max over layer "
                 "pairs i < j of I(X;T_j) - I(X;T_i), 0 if none), fraction of the setting's M, averaged over "
                 "iterations and K in (2, 32): previous rule minus proposed rule (paired by seed and batch)",
        rationale="'Less significant', 'better approximated': the violations are smaller; sizes, not "
                  "counts (a count weighs 0.01 and 2 bits alike); threshold 0: any reduction.",
        conditions=(Condition("reduction", ">=", 0.0, "fraction of M", "the proposed rule's violations are "
                              "smaller", (0.0, 0.01, 0.02, 0.05, 0.1)),),
        compute=_q_dpi,
        needs=lambda meta, s: _plane_keys(s, meta["plane_Ks"], ("in", "M"))
        + _plane_keys(PREVIOUS, meta["plane_Ks"], ("in", "M")),
        primary="reduction", primary_unit="fraction of M",
        figures=("fig6_planes_old_rule.png", "fig7_planes.png")),
    Claim(
        id="mi_grows_with_K",
        statement="The MI at the end of training grows with the bottleneck size K.",
        source="Sec. IV-B (Fig. 9): 'The MI grows with K, which agrees with the premise that larger K allows "
               "more information to be transferred.'",
        quantity="final output MI (mean over the 7 layers) at the largest K minus at the smallest K of the "
                 "sweep, fraction of M",
        rationale="Growth visible at the reading tolerance tau.",
        conditions=(_tau_condition("output_mi_increase", ">=", "the output MI grows by at least tau M "
                                   "from the smallest to the largest K"),),
        compute=_q_grows, needs=lambda meta, s: [f"sweep/{s}/{p}" for p in ("in", "out", "M")],
        primary="output_mi_increase", primary_unit="fraction of M", figures=("fig9_bottleneck_sweep.png",)),
    Claim(
        id="critical_K",
        statement="The encoder's compression disappears past a critical bottleneck size of about 13 (MNIST).",
        source="Sec. IV-B (Fig. 9a): 'This sequence shrinks as K increases, except for the bottleneck layer "
               "after K = 2. In Fig. 9a, the compression made by the encoder layers mostly disappears after "
               "K = 13. ... Hence, K = 13 is an approximation of the intrinsic dimensionality of the data.'",
        quantity="critical K: the smallest K (linear in log K between the sizes trained) at which the spread "
                 "of the final input MI of the encoder's hidden layers T1E-T3E falls to tau_critical M; Z is "
                 "left out as the paper does ('except for the bottleneck layer'); the variant with Z is "
                 "reported. Judged: |log2(critical K / 13)|, octaves",
        rationale="'Mostly disappears': at the reading tolerance (tau_critical = tau). 'About 13': within half "
                  "an octave (9.2-18.4), the resolution of a sweep over powers of two; the paper's own grid "
                  "is finer, but it gives no uncertainty.",
        conditions=(Condition("octaves_from_13", "<=", 0.5, "octaves", "the critical K is within half an "
                              "octave of 13", (0.15, 0.25, 0.5, 1.0)),),
        compute=_q_critical, needs=lambda meta, s: [f"sweep/{s}/{p}" for p in ("in", "M")],
        primary="critical_K", primary_unit="K", params={"tau_critical": (TAU, TAU_RANGE)},
        figures=("fig9_bottleneck_sweep.png",)),
)

BY_ID = {c.id: c for c in CLAIMS}


def evaluate_all(evidence: Mapping[str, np.ndarray], meta: dict, *, n_boot: int = 1000,
                 variants: Sequence[str] = (ABLATION,), claims: Sequence[Claim] = CLAIMS) -> list[dict]:
    """Every claim under the headline setting, with each variant's verdict and estimate beside it."""
    out = []
    for i, claim in enumerate(claims):
        result = evaluate(claim, evidence, meta, HEADLINE, n_boot=n_boot, seed=i)
        result["variants"] = {}
        if claim.variants:
            for v in variants:
                if all(k in evidence for k in claim.needs(meta, v)):
                    r = evaluate(claim, evidence, meta, v, n_boot=n_boot, seed=i, sensitivity=False)
                    result["variants"][v] = {"verdict": r["verdict"], "estimate": r["estimate"]}
        out.append(result)
    return out
