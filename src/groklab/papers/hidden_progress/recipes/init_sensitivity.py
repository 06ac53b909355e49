"""Is t_c set by the initialization or by the SGD noise? (Barak et al. Fig 2 center; claim 7.)

Each of `inits` trials keeps its initialization and its support S while `data_seeds` different
data streams (batch draws) are replayed from it (TrainSpec.data_seed). If t_c were mostly SGD
noise, the spread of log t_c within one init would match the spread between inits; the paper
finds t_c sensitive to the init and not to the data order.
"""
from __future__ import annotations

import numpy as np
from pydantic import Field

from groklab.config import make_config
from groklab.experiments.base import BaselineOptions, experiment, figure_dir
from groklab.figures import plt, save_figure
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.store import Store

RATIO_THRESHOLD = 0.5  # claim 7: mean within-init std of log t_c < 0.5 x between-init std


class SensitivityOptions(BaselineOptions):
    n: int = Field(20, gt=0, description="input dimension n (Fig 2 center: (20,3))")
    batch: int = Field(128, gt=0, description="batch size B (Fig 2 center: 128)")
    lr: float = Field(0.01, gt=0, description="SGD learning rate (Fig 2 center: 0.01, so t_c is ~10x the baseline's)")
    max_steps: int = Field(60_000, gt=0, description="step budget per trial (lr 0.01 needs about 10x the baseline's)")
    inits: int = Field(16, ge=2, description="initializations (trial indices 0..inits-1)")
    data_seeds: int = Field(4, ge=2, description="data streams replayed from each initialization")


def spread_of_log_tc(steps: np.ndarray) -> dict:
    """steps: (inits, data_seeds) convergence steps, NaN where unsolved. Inits with fewer than two
    solved streams are left out of the within-init spread."""
    logs = np.log(steps)
    solved_per_init = np.sum(np.isfinite(logs), axis=1)
    usable = solved_per_init >= 2
    within = np.array([np.nanstd(row, ddof=1) for row in logs[usable]])
    init_means = np.array([np.nanmean(row) for row in logs[usable]])
    between = float(np.std(init_means, ddof=1)) if len(init_means) >= 2 else float("nan")
    return {"within_init_std": float(np.mean(within)) if len(within) else float("nan"),
            "between_init_std": between, "inits_used": int(usable.sum())}


def plot_sensitivity(steps: np.ndarray, path, title: str) -> str:
    solved = np.isfinite(steps)
    means = np.where(solved, steps, 0).sum(axis=1) / np.maximum(solved.sum(axis=1), 1)
    order = np.argsort(np.where(solved.any(axis=1), means, np.inf))  # inits with nothing solved last
    figure, ax = plt.subplots(figsize=(7, 4))
    for rank, init in enumerate(order):
        row = steps[init]
        ax.scatter(np.full(len(row), rank), row, s=14, color="tab:blue", alpha=0.8)
    if solved.any():  # a log axis with no data warns
        ax.set_yscale("log")
    ax.set_xlabel("initialization (sorted by mean t_c)")
    ax.set_ylabel("t_c (steps), one dot per data stream")
    ax.set_title(title)
    return str(save_figure(figure, path))


@experiment("init-sensitivity", SensitivityOptions,
            "t_c of fixed inits under several data orders: init matters, SGD noise does not (claim 7)")
def run_init_sensitivity(options: SensitivityOptions, store: Store, workers, quiet) -> dict:
    configs = [make_config({"name": "parity", "n": options.n, "k": options.k},
                           {"name": "mlp", "width": options.width}, loss={"name": "hinge"},
                           optimizer={"name": "sgd", "lr": options.lr},
                           train={"batch_size": options.batch, "max_steps": options.max_steps,
                                  "eval_every": options.eval_every, "data_seed": stream})
               for stream in range(options.data_seeds)]
    stats = execute_plan(Plan("init-sensitivity", tuple(configs), options.seed, options.inits), store, workers,
                         quiet=quiet)
    steps = np.full((options.inits, options.data_seeds), np.nan)
    for stream, config in enumerate(configs):
        rows = store.trials_for(config.config_hash(), options.seed, range(options.inits))
        solved = rows["converged"].astype(bool)
        steps[rows["trial_index"][solved], stream] = rows["convergence_step"][solved]
    spread = spread_of_log_tc(steps)
    between = spread["between_init_std"]
    ratio = spread["within_init_std"] / between if np.isfinite(between) and between > 0 else float("nan")
    title = (f"({options.n},{options.k}), ReLU r={options.width}, B={options.batch}, lr={options.lr}: "
             f"{options.data_seeds} data orders per init")
    figure = plot_sensitivity(steps, figure_dir(store) / f"init-sensitivity-n{options.n}-k{options.k}.png", title)
    return {
        "claim": f"7: mean within-init std of log t_c < {RATIO_THRESHOLD} x between-init std",
        "verdict": "PASS" if np.isfinite(ratio) and ratio < RATIO_THRESHOLD else "FAIL",
        "figures": [figure],
        "within_to_between_ratio": float(ratio) if np.isfinite(ratio) else None,
        **{key: value if not isinstance(value, float) or np.isfinite(value) else None
           for key, value in spread.items()},
        "solved": int(np.isfinite(steps).sum()), "trials": int(steps.size),
        "convergence_steps": [[None if np.isnan(v) else int(v) for v in row] for row in steps],
        "wall_seconds": round(stats["wall_seconds"], 2),
    }
