"""`groklab run init-scale`: classification grokking as the init scale alpha shrinks (Mohamadi et al.
Fig 1 middle; spec claim 29): t_train, t_test, the gap and test accuracy at t_train per alpha.

The grokking recipe's runs at each alpha (same configs, so the store shares them with `grokking` and
with `groklab check why-grok --claim 29`). Defaults follow claim 29's [cal2] note: normalized GD
eta = 1 (eta = 10 erases alpha in its first step), p = 47, 3 seeds, 12,000 steps."""
from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from groklab.experiments.base import experiment, figure_dir
from groklab.papers.why_grok.recipes.grokking import GrokkingOptions, median_reached, run_grokking
from groklab.store import Store


class InitScaleOptions(GrokkingOptions):
    p: tuple[int, ...] = Field((47,), min_length=1, max_length=1, description="one prime modulus")
    scales: tuple[float, ...] = Field((1.0, 0.3, 0.1, 0.03), min_length=2, description="init scales alpha, falling")
    lr: float = Field(1.0, gt=0, description="normalized GD step (eta = 10 erases alpha in one step, [cal2])")
    trials: int = Field(3, gt=0, description="seeds per alpha")
    max_steps: int = Field(12_000, gt=0, description="full-batch steps per trial")
    eval_every: int = Field(20, gt=0, description="steps between evaluations")

    @field_validator("scales")
    @classmethod
    def _positive(cls, scales: tuple[float, ...]) -> tuple[float, ...]:
        if min(scales) <= 0:
            raise ValueError(f"init scales must be positive (got {min(scales)})")
        return scales


@experiment("init-scale", InitScaleOptions, "classification grokking vs the init scale alpha: t_train, t_test, gap "
            "and test accuracy at t_train (Mohamadi et al. Fig 1 middle; claim 29)")
def run_init_scale(options: InitScaleOptions, store: Store, workers, quiet) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (p,) = options.p
    per_alpha = {}
    for alpha in options.scales:
        summary = run_grokking(options.model_copy(update={"init_scale": alpha}), store, workers, quiet)
        r = summary["per_p"][str(p)]
        per_alpha[str(alpha)] = {key: r[key] for key in ("t_train", "t_test", "test_accuracy_at_t_train",
                                                         "final_test_accuracy")}
        per_alpha[str(alpha)]["gap"] = [None if a is None or b is None else b - a
                                        for a, b in zip(r["t_train"], r["t_test"])]
    at_fit = [median_reached(r["test_accuracy_at_t_train"]) for r in per_alpha.values()]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    alphas = list(options.scales)
    for key, style in (("t_train", "s--"), ("t_test", "o-"), ("gap", "^:")):
        axes[0].plot(alphas, [median_reached(r[key]) for r in per_alpha.values()], style, label=key)
    axes[0].set(xscale="log", xlabel="init scale alpha", ylabel="steps (median over reached seeds)")
    axes[1].plot(alphas, at_fit, "o-")
    axes[1].set(xscale="log", xlabel="init scale alpha", ylabel="test accuracy at t_train (median)")
    axes[0].legend()
    fig.suptitle(f"p = {p}, normalized GD eta {options.lr:g}")
    figure = figure_dir(store) / "init_scale.png"
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    monotone = bool(np.all(np.isfinite(at_fit))) and all(b >= a for a, b in zip(at_fit, at_fit[1:]))
    return {"per_alpha": per_alpha, "claim": "claim 29: as alpha falls, test accuracy at t_train does not fall (less "
            "memorization); t_test is reported as measured", "verdict": "PASS" if monotone else "FAIL",
            "figures": [str(figure)], "store": str(store.root)}
