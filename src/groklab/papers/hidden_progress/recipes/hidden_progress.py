"""Hidden progress against a random-label control (Barak et al. Fig 3 / Fig 13; claim 9).

Through the loss plateau the weights on the support S grow steadily: rho = ||W_t - W_0||_inf
tracks that drift and separates the real task from the same network trained on random labels,
where rho only moves like the maximum of n random walks. Accuracy leaves 50% only once the
relevant coordinates' movement overtakes every irrelevant one.
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

RHO_RATIO = 2.0  # claim 9: rho_true >= 2 rho_random at t_c / 2
OVERTAKE_ACCURACY = 0.6  # claim 9: relevant movement overtakes irrelevant before accuracy passes this


class HiddenProgressOptions(BaselineOptions):
    n: int = Field(20, gt=0, description="input dimension n (Fig 3: (20,3))")
    trials: int = Field(8, gt=0, description="trials of the task and of the control")


def _column(curves: dict, trial: int, name: str) -> np.ndarray:
    return curves[name][curves["trial_index"] == trial]


def overtakes_before(curves: dict, trial: int, accuracy: float) -> bool:
    """Does min_{i in S} movement exceed max_{i not in S} movement at or before the first evaluation
    with validation accuracy above `accuracy`?"""
    rel, irr, acc = (_column(curves, trial, c) for c in ("relevant_movement_min", "irrelevant_movement_max",
                                                           "val_accuracy"))
    overtake, passed = np.flatnonzero(rel > irr), np.flatnonzero(acc > accuracy)
    return len(overtake) > 0 and len(passed) > 0 and overtake[0] <= passed[0]


def plot_hidden_progress(true_curves, control_curves, trials, half, path, title) -> str:
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for trial in range(min(trials, 8)):
        steps = _column(true_curves, trial, "step")
        left.plot(steps, _column(true_curves, trial, "hidden_progress"), color="tab:blue", alpha=0.6,
                  label="true labels" if trial == 0 else None)
        control_steps = _column(control_curves, trial, "step")
        left.plot(control_steps, _column(control_curves, trial, "hidden_progress"), color="tab:gray", alpha=0.6,
                  label="random labels" if trial == 0 else None)
        right.plot(steps, _column(true_curves, trial, "relevant_movement_min"), color="tab:green", alpha=0.6,
                   label="min over S" if trial == 0 else None)
        right.plot(steps, _column(true_curves, trial, "irrelevant_movement_max"), color="tab:red", alpha=0.6,
                   label="max over the rest" if trial == 0 else None)
    left.axvline(half, color="k", lw=0.8, ls=":", label="median t_c / 2")
    left.set(xlabel="step", ylabel="rho = ||W_t - W_0||_inf", title="hidden progress")
    right.set(xlabel="step", ylabel="max_j |W_t - W_0|[i, j]", title="per-coordinate movement (true labels)")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    figure.suptitle(title)
    return str(save_figure(figure, path))


@experiment("hidden-progress", HiddenProgressOptions,
            "rho = ||W_t - W_0||_inf on the task vs a random-label control; relevant vs irrelevant weights (claim 9)")
def run_hidden_progress(options: HiddenProgressOptions, store: Store, workers, quiet) -> dict:
    def config(random_labels: bool, max_steps: int):
        return make_config({"name": "parity", "n": options.n, "k": options.k, "random_labels": random_labels},
                           {"name": "mlp", "width": options.width}, loss={"name": "hinge"},
                           optimizer={"name": "sgd", "lr": options.lr},
                           train={"batch_size": options.batch, "max_steps": max_steps,
                                  "eval_every": options.eval_every}, probes=["hidden-progress"])

    true = config(False, options.max_steps)
    execute_plan(Plan("hidden-progress", (true,), options.seed, options.trials), store, workers, quiet=quiet)
    rows = store.trials_for(true.config_hash(), options.seed, range(options.trials))
    solved = rows["converged"].astype(bool)
    if not solved.any():
        return {"claim": "9", "verdict": "FAIL", "figures": [], "solved": 0, "trials": options.trials}
    median = float(np.median(rows["convergence_step"][solved]))
    half = max(options.eval_every, int(median // 2 // options.eval_every * options.eval_every))
    # The control only needs to run until t_c / 2 of the real task.
    control = config(True, half)
    execute_plan(Plan("hidden-progress", (control,), options.seed, options.trials), store, workers, quiet=quiet)
    true_curves = store.curves_for(true.config_hash(), options.seed, range(options.trials))
    control_curves = store.curves_for(control.config_hash(), options.seed, range(options.trials))
    at_half = lambda curves: curves["hidden_progress"][curves["step"] == half]  # noqa: E731
    rho_true, rho_random = float(np.mean(at_half(true_curves))), float(np.mean(at_half(control_curves)))
    early = [overtakes_before(true_curves, trial, OVERTAKE_ACCURACY) for trial in range(options.trials)]
    figure = plot_hidden_progress(true_curves, control_curves, options.trials, half,
                                  figure_dir(store) / f"hidden-progress-n{options.n}-k{options.k}.png",
                                  f"({options.n},{options.k})-parity, ReLU r={options.width}, B={options.batch}, "
                                  f"lr={options.lr}")
    passed = rho_true >= RHO_RATIO * rho_random and sum(early) >= 0.8 * options.trials
    return {
        "claim": f"9: rho_true >= {RHO_RATIO} x rho_random at t_c/2; relevant movement overtakes irrelevant before "
                 f"accuracy {OVERTAKE_ACCURACY} in >= 80% of trials",
        "verdict": "PASS" if passed else "FAIL",
        "figures": [figure],
        "solved": int(solved.sum()), "trials": options.trials, "median_tc": median, "half_tc": half,
        "rho_true_at_half": rho_true, "rho_random_at_half": rho_random,
        "overtake_before_accuracy": int(sum(early)),
    }
