"""`groklab run kernel-regime`: eNTK ridgeless regression of the regression network at init
(Mohamadi et al. section 3.1, Thm 3.1 and Thm 3.4; spec claims 20 and 21) as the training-set size
n and the width h vary: train and test MSE, the Gram's lambda_min and rank. Exact, float64."""
from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.store import Store

INTERPOLATES = 1e-8  # train MSE once the Gram is positive definite (issue 9)


class KernelRegimeOptions(ExperimentOptions):
    p: int = Field(13, gt=2, le=23, description="prime modulus (the Gram is n x n with n up to p^3)")
    widths: tuple[int, ...] = Field((4, 8, 16, 17, 18, 24, 52), min_length=1,
                                    description="widths h at n = 2p^2.25 (13: 17 singular, 18 full rank)")
    sizes: tuple[float, ...] = Field((0.1, 0.2, 0.3, 0.5), min_length=1,
                                     description="training sizes n as fractions of the p^3 triples, at h = 4p")
    trials: int = Field(3, gt=0, le=100, description="random inits and splits per point")
    # Beside the kernel: the network itself trained in the paper's regression setting at the same n and
    # h = 4p ([cal]: it fits within ~2k steps and then tests like the kernel, MSE > p). 0: skip.
    network_steps: int = Field(2000, ge=0, le=100_000, description="full-batch GD steps of the trained network "
                               "(paper setting, n = 2p^2.25, h = 4p); 0 = kernel only")

    @field_validator("p")
    @classmethod
    def _prime(cls, p: int) -> int:
        from groklab.tasks.modular import is_prime

        if not is_prime(p):
            raise ValueError(f"{p} is not prime")
        return p

    @field_validator("widths")
    @classmethod
    def _positive(cls, widths: tuple[int, ...]) -> tuple[int, ...]:
        if min(widths) <= 0:
            raise ValueError(f"widths must be positive (got {min(widths)})")
        return widths

    @field_validator("sizes")
    @classmethod
    def _fractions(cls, sizes: tuple[float, ...]) -> tuple[float, ...]:
        if not all(0 < s < 1 for s in sizes):
            raise ValueError("sizes are fractions of p^3 strictly between 0 and 1")
        return sizes


def _trained_network(options: KernelRegimeOptions, store: Store, workers, quiet) -> dict:
    """Train and test MSE of the regression network trained by the paper's GD (recipe
    `regression-grokking --setting paper`) at n = 2p^2.25, h = 4p, after `network_steps` steps."""
    from groklab.papers.why_grok.recipes.regression_grokking import RegressionGrokkingOptions, regression_config
    from groklab.plan import Plan
    from groklab.runner import execute_plan

    every = min(options.network_steps, 250)
    steps = options.network_steps - options.network_steps % every
    config = regression_config(options.p, RegressionGrokkingOptions(setting="paper", p=(options.p,), max_steps=steps,
                                                                    eval_every=every, trials=options.trials))
    execute_plan(Plan(experiment="kernel-regime", configs=(config,), seed=options.seed, trials=options.trials),
                 store, workers, None, quiet)
    rows = store.trials_for(config.config_hash(), options.seed, range(options.trials))
    return {"steps": steps, "width": 4 * options.p, "train_mse": [float(v) for v in rows["final_train_set_loss"]],
            "test_mse": [float(v) for v in rows["final_val_loss"]]}


def _sweep(p: int, points: list[tuple[int, int]], trials: int, seed: int) -> list[dict]:
    from groklab.papers.why_grok.kernel_regime import kernel_fit_at_init, rank_bound

    rows = []
    for width, n in points:
        fits = [kernel_fit_at_init(p, width, n, seed=seed * 100_003 + t * 1009 + width * 31 + n) for t in range(trials)]
        rows.append({"width": width, "n": n, "rank_bound": rank_bound(p, width, n),
                     "rank": [f.rank for f in fits], "lambda_min": [f.lambda_min for f in fits],
                     "train_mse": [f.train_mse for f in fits], "test_mse": [f.test_mse for f in fits]})
    return rows


@experiment("kernel-regime", KernelRegimeOptions, "eNTK ridgeless regression at init vs n and h: rank "
            "min(n, (3p-2)h), interpolation once full rank, test MSE >= p/2 (claims 20, 21)")
def run_kernel_regime(options: KernelRegimeOptions, store: Store, workers, quiet) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from groklab.papers.why_grok.kernel_regime import regression_size

    p, n = options.p, regression_size(options.p)
    by_width = _sweep(p, [(h, n) for h in options.widths], options.trials, options.seed)
    by_size = _sweep(p, [(4 * p, round(s * p**3)) for s in options.sizes], options.trials, options.seed)
    rows = by_width + by_size
    network = _trained_network(options, store, workers, quiet) if options.network_steps else None
    rank_ok = all(r == row["rank_bound"] for row in rows for r in row["rank"])
    fits_ok = all(m < INTERPOLATES for row in rows for m, r in zip(row["train_mse"], row["rank"]) if r == row["n"])
    fails_ok = all(m >= p / 2 for row in by_width for m in row["test_mse"])

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, sweep, key, label in ((axes[0], by_width, "width", f"width h (n = {n})"),
                                  (axes[1], by_size, "n", "training triples n (h = 4p)")):
        xs = [row[key] for row in sweep]
        for column, style in (("test_mse", "o-"), ("train_mse", "s--")):
            ax.plot(xs, [np.median(row[column]) for row in sweep], style, label=column.replace("_", " "))
        ax.axhline(p / 2, color="gray", linestyle=":", label="p/2")
        ax.set(xlabel=label, ylabel="MSE (median over trials)", yscale="log", title=f"eNTK regression at init, p = {p}")
    if network:
        axes[0].plot([network["width"]], [np.median(network["test_mse"])], "k*", markersize=12,
                     label=f"trained network test MSE ({network['steps']} GD steps)")
    for ax in axes:
        ax.legend(fontsize=8)
    figure = figure_dir(store) / "kernel_regime.png"
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    return {"by_width": by_width, "by_size": by_size, "n": n, "singular_below_width": n / (3 * p - 2),
            "trained_network": network,
            "claim": "claims 20/21: rank = min(n, (3p-2)h); train MSE < 1e-8 once full rank; test MSE >= p/2 at "
                     "n = 2p^2.25", "verdict": "PASS" if rank_ok and fits_ok and fails_ok else "FAIL",
            "figures": [str(figure)], "store": str(store.root)}
