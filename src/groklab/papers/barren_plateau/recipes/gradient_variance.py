"""Barren plateaus: the gradient's variance over a hypothesis class shrinks with its size
(Takhanov et al. 2023, Thm 15 for modular multiplication and Thm 1 for high frequencies on the
real line; claims 32 and 33).

For each modulus p (and each frequency scale A) and each of a few random initializations of a
ReLU MLP, Var(H, w) of the square loss over the class is computed at the initialization
(groklab.hardness.gradient_variance: exact over Z_p^*, quadrature over [0, 1] for the real line)
and normalized by E_x ||grad f||^2. The decay exponent is fitted on log-log axes, once per
initialization (so the spread of the exponents gives a CI), and compared with the theorems'
p^-1/2 (A^-1/2) and the conjectured p^-1 (A^-1).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from groklab import defaults
from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.figures import plt, save_figure
from groklab.hardness.gradient_variance import build_task_and_model, gradient_variance
from groklab.store import Store

THEOREM_SLOPE = -0.5  # claims 32 and 33: Var <= O~(p^-1/2), O~(A^-1/2)


class GradientVarianceOptions(ExperimentOptions):
    primes: tuple[int, ...] = Field((47, 97, 199, 397, 797, 1597, 3191), description="moduli p (primes; up to "
                                    "~10^4: 9973 takes under a minute each)")
    encoding: Literal["binary", "scalar", "one-hot"] = Field("binary", description="input encoding of x for modular multiplication: binary | scalar | one-hot")
    frequencies: tuple[float, ...] = Field((4, 16, 64, 256, 1024), description="frequency scales A (a ~ U[A, 2A])")
    psi: Literal["sawtooth", "sine"] = Field("sawtooth", description="periodic profile on the real line: sawtooth | sine")
    hypotheses: int = Field(64, gt=1, description="frequencies a per A (a midpoint grid of [A, 2A])")
    width: int = Field(defaults.WIDTH, gt=0, description="hidden units of the ReLU MLP")
    inits: int = Field(5, ge=2, description="random initializations per point (the spread gives the exponent's CI)")


def _model_and_family(task: dict, width: int, **family_args):
    task_obj, model = build_task_and_model(task, {"name": "mlp", "width": width})
    return model, task_obj.target_family(**family_args)


def fit_decay(sizes: list[float], normalized: np.ndarray) -> dict:
    """Slope of log variance on log size, per initialization (columns) and for the mean over inits."""
    logs = np.log(np.asarray(sizes, float))
    per_init = np.polyfit(logs, np.log(normalized), 1)[0]  # one slope per column
    pooled = float(np.polyfit(logs, np.log(normalized.mean(axis=1)), 1)[0])
    half_width = 1.96 * per_init.std(ddof=1) / np.sqrt(len(per_init))
    return {"slope": pooled, "slope_per_init": per_init.tolist(),
            "ci_low": float(per_init.mean() - half_width), "ci_high": float(per_init.mean() + half_width)}


def _sweep(label: str, sizes, task_for, width: int, inits: int, seed: int, family_args: dict) -> tuple[list, np.ndarray]:
    import jax

    rows, normalized = [], np.zeros((len(sizes), inits))
    for i, size in enumerate(sizes):
        model, family = _model_and_family(task_for(size), width, **family_args)
        for init in range(inits):
            params = model.init(jax.random.fold_in(jax.random.key(seed), init))
            result = gradient_variance(model, params, family, "square")
            normalized[i, init] = result.normalized
            rows.append({"family": label, "size": float(size), "init": init, "width": width, **result.as_dict()})
    return rows, normalized


def plot_decay(panels: list[tuple], path) -> str:
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (sizes, normalized, fit, xlabel, title) in zip(axes[0], panels):
        sizes = np.asarray(sizes, float)
        for column in normalized.T:
            ax.plot(sizes, column, "o", color="tab:blue", alpha=0.35, ms=4)
        mean = normalized.mean(axis=1)
        ax.plot(sizes, mean, "o-", color="tab:blue", label=f"mean over inits: slope {fit['slope']:.2f}")
        for exponent, style in ((-0.5, "--"), (-1.0, ":")):
            ax.plot(sizes, mean[0] * (sizes / sizes[0]) ** exponent, style, color="gray",
                    label=f"{xlabel}^{exponent:g} (from the first point)")
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="Var(H, w) / E||grad f||^2", title=title)
        ax.legend(fontsize=8)
    return str(save_figure(figure, path))


@experiment("gradient-variance", GradientVarianceOptions,
            "normalized gradient variance over modular multiplication (vs p) and psi(a x) (vs A) at init "
            "(claims 32, 33)")
def run_gradient_variance(options: GradientVarianceOptions, store: Store, workers, quiet) -> dict:
    modmul_rows, modmul = _sweep(
        "modular-multiplication", options.primes,
        lambda p: {"name": "modular-multiplication", "p": p, "target": "standardized", "encoding": options.encoding},
        options.width, options.inits, options.seed, {})
    real_rows, real = _sweep(
        "high-frequency", options.frequencies,
        lambda a: {"name": "high-frequency", "frequency": a, "psi": options.psi},
        options.width, options.inits, options.seed, {"hypotheses": options.hypotheses})
    table = store.write_table("gradient-variance", modmul_rows + real_rows)
    fit_p, fit_a = fit_decay(list(options.primes), modmul), fit_decay(list(options.frequencies), real)
    figure = plot_decay([
        (options.primes, modmul, fit_p, "p", f"t(a x mod p), {options.encoding} x, ReLU r={options.width}"),
        (options.frequencies, real, fit_a, "A", f"{options.psi}(a x), a ~ U[A, 2A], ReLU r={options.width}"),
    ], figure_dir(store) / "gradient-variance.png")
    passed = fit_p["slope"] <= THEOREM_SLOPE and fit_a["slope"] <= THEOREM_SLOPE
    return {
        "claim": "32/33: log-log slope of the normalized variance <= -0.5 in p and in A (theorems; ~ -1 conjectured)",
        "verdict": "PASS" if passed else "FAIL",
        "figures": [figure], "table": str(table),
        "modular_multiplication": {"primes": list(options.primes), "normalized_mean": modmul.mean(axis=1).tolist(),
                                   **fit_p},
        "high_frequency": {"frequencies": list(options.frequencies), "normalized_mean": real.mean(axis=1).tolist(),
                           **fit_a},
    }
