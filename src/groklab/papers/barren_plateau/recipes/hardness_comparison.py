"""One table for the three papers' hardness results: the same gradient-variance measure on sparse
parity (Barak et al.), modular addition (Mohamadi et al.) and modular multiplication and
high-frequency targets (Takhanov et al.), at a random initialization of the same kind of network.

Each family is measured at a few sizes of its natural parameter: the class of (n,k)-parities
(|H| = C(n,k), pairwise orthonormal: the SSS17 bound 4/|H| applies), modular multiplication
(|H| = p - 1), psi(a x) with a ~ U[A, 2A], and modular addition through its relabelled sums (a
sample of the class; cross-entropy on p logits).
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.figures import plt, save_figure
from groklab.hardness.gradient_variance import gradient_variance
from groklab.papers.barren_plateau.recipes.gradient_variance import (
    _model_and_family,
    fit_decay,
)
from groklab.store import Store


class ComparisonOptions(ExperimentOptions):
    parity_ns: tuple[int, ...] = Field((8, 10, 12, 14), description="n of the (n,k)-parity classes (n <= 16)")
    parity_k: int = Field(3, gt=0, description="k of the parity classes")
    addition_primes: tuple[int, ...] = Field((7, 11, 17, 23), description="p of modular addition")
    addition_hypotheses: int = Field(32, gt=1, description="relabelled sums sampled per p")
    multiplication_primes: tuple[int, ...] = Field((47, 197, 797), description="p of modular multiplication")
    frequencies: tuple[float, ...] = Field((4, 32, 256), description="A of psi(a x), sawtooth")
    width: int = Field(100, gt=0, description="hidden units of the ReLU MLP (every family)")
    inits: int = Field(3, ge=2, description="random initializations per point")


def _measure(label, size_label, sizes, task_for, family_args, loss, options) -> tuple[list, np.ndarray]:
    import jax

    rows, normalized = [], np.zeros((len(sizes), options.inits))
    for i, size in enumerate(sizes):
        model, family = _model_and_family(task_for(size), options.width, **family_args)
        for init in range(options.inits):
            result = gradient_variance(model, model.init(jax.random.fold_in(jax.random.key(options.seed), init)),
                                       family, loss)
            normalized[i, init] = result.normalized
            rows.append({"family": label, "size_parameter": size_label, "size": float(size),
                         "class_size": family.size if family.exhaustive else None, "init": init, "loss": loss,
                         **result.as_dict()})
    return rows, normalized


@experiment("hardness-comparison", ComparisonOptions,
            "gradient variance over the class for parity, modular addition, modular multiplication and psi(a x)")
def run_hardness_comparison(options: ComparisonOptions, store: Store, workers, quiet) -> dict:
    k = options.parity_k
    rows, summary, panels = [], {}, []
    specs = [
        ("(n,k)-parity", "C(n,k)", [math.comb(n, k) for n in options.parity_ns],
         {math.comb(n, k): {"name": "parity", "n": n, "k": k} for n in options.parity_ns}, {}, "square"),
        ("modular multiplication", "p - 1", [p - 1 for p in options.multiplication_primes],
         {p - 1: {"name": "modular-multiplication", "p": p, "target": "standardized"}
          for p in options.multiplication_primes}, {}, "square"),
        ("psi(a x), real line", "A", list(options.frequencies),
         {a: {"name": "high-frequency", "frequency": a} for a in options.frequencies}, {"hypotheses": 64}, "square"),
        ("modular addition", "p", list(options.addition_primes),
         {p: {"name": "modular-addition", "p": p} for p in options.addition_primes},
         {"hypotheses": options.addition_hypotheses}, "cross-entropy"),
    ]
    for label, size_label, sizes, tasks, family_args, loss in specs:
        family_rows, normalized = _measure(label, size_label, sizes, tasks.__getitem__, family_args, loss, options)
        rows += family_rows
        fit = fit_decay(sizes, normalized)
        summary[label] = {"size_parameter": size_label, "sizes": sizes, "loss": loss,
                          "normalized_mean": normalized.mean(axis=1).tolist(), "slope": fit["slope"],
                          "slope_ci": [fit["ci_low"], fit["ci_high"]]}
        panels.append((label, size_label, sizes, normalized, fit))
    parity = summary["(n,k)-parity"]
    bound_holds = all(v <= 4.0 / size for v, size in zip(parity["normalized_mean"], parity["sizes"]))
    table = store.write_table("hardness-comparison", rows)
    figure, ax = plt.subplots(figsize=(7, 4.8))
    for label, size_label, sizes, normalized, fit in panels:
        ax.plot(sizes, normalized.mean(axis=1), "o-", label=f"{label} (x = {size_label}), slope {fit['slope']:.2f}")
    parity_sizes = np.asarray(parity["sizes"], float)
    ax.plot(parity_sizes, 4.0 / parity_sizes, "k--", lw=0.8, label="4/|H| (orthonormal class bound)")
    ax.set(xscale="log", yscale="log", xlabel="class size parameter", ylabel="Var(H, w) / E||grad f||^2",
           title=f"gradient variance at init, ReLU MLP r={options.width}")
    ax.legend(fontsize=7)
    path = str(save_figure(figure, figure_dir(store) / "hardness-comparison.png"))
    return {
        "claim": "parity's normalized variance stays under the SSS17 bound 4/|H|; every family's variance decays",
        "verdict": "PASS" if bound_holds and all(v["slope"] < 0 for v in summary.values()) else "FAIL",
        "figures": [path], "table": str(table), "families": summary,
    }
