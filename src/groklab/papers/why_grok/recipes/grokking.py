"""`groklab run grokking`: classification grokking of (a + b) mod p (Mohamadi et al. Fig 4 / Fig 1
right; spec claim 28 and its [cal2] notes).

The quadratic network V (W [e_a; e_b])^2 with h = 4p, He-normal init, trained full batch on
n = round(2 p^(5/3)) random pairs by normalized GD (eta = 10, no penalty: lambda = 1e-20 is not
harmless, see the spec), with the cross-entropy gradient from log-probabilities and rescaled so it
never underflows. Per trial: t_train (first evaluation at 100% train accuracy), t_test (first at
>= 99% test accuracy), ||theta||_inf at t_test (the `norms-margin` probe) and the eNTK's relative
change at both (the `entk` probe on a seeded subset of the training pairs).
"""
from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from groklab import defaults
from groklab.config import make_config
from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.specs import MAX_STEPS, TrialConfig
from groklab.store import Store

CLAIM = ("claim 28: >= 7/8 seeds reach test accuracy 0.99 within the budget at every p, median t_test >= 2 "
         "median t_train, and ||theta||_inf at t_test does not grow with p (CV across p < 0.5)")
MIN_SOLVED_FRACTION = 7 / 8  # the "at least 7 of 8 seeds"
MIN_GAP_RATIO = 2.0  # median t_test >= 2 median t_train: a delay, not simultaneous fitting
MAX_NORM_CV = 0.5  # ||theta||_inf at t_test roughly constant across p (spec claim 28)


def train_pairs(p: int) -> int:
    """The paper's training-set size for classification, n = 2 p^(5/3) pairs [WG App A]."""
    return round(2 * p ** (5 / 3))


class GrokkingOptions(ExperimentOptions):
    p: tuple[int, ...] = Field((23, 31, 47), min_length=1, description="prime moduli")
    trials: int = Field(8, gt=0, description="seeds per p")
    width: int | None = Field(None, gt=0, description=f"hidden units h (default {defaults.WG_WIDTH_PER_CLASS}p)")
    lr: float = Field(10.0, gt=0, description="normalized GD step length eta (WG eq. A.1)")
    init_scale: float = Field(1.0, gt=0, description="alpha, multiplies the He-normal init")
    max_steps: int = Field(3000, gt=0, le=MAX_STEPS, description="full-batch steps per trial")
    eval_every: int = Field(10, gt=0, le=MAX_STEPS, description="steps between evaluations (t_train/t_test resolution)")
    target: float = Field(0.99, gt=0, le=1, description="test accuracy that defines t_test")
    # The paper's lambda = 1e-20 (inside the normalization) stalls runs below 0.99 ([cal2]; docs/why-grok.md
    # section 4); with a penalty the gradient cannot be rescaled (that would rescale lambda too).
    linf_penalty: float = Field(0.0, ge=0, description="lambda of lambda ||theta||_inf (0: the reproduced setting)")
    entk_points: int | None = Field(None, gt=0, description=f"eNTK probe set: this many training pairs; None = "
                                    f"{defaults.ENTK_PROBE_POINTS} (all when fewer)")

    @field_validator("p")
    @classmethod
    def _leaves_a_test_set(cls, primes: tuple[int, ...]) -> tuple[int, ...]:
        for p in primes:
            if p < 2 or train_pairs(p) >= p * p:
                raise ValueError(f"{p}: 2p^(5/3) training pairs leave no test pairs below p = 11")
        return primes


def grokking_config(p: int, options: GrokkingOptions) -> TrialConfig:
    return make_config({"name": "modular-addition", "p": p, "train_fraction": train_pairs(p) / p**2},
                       {"name": "wg-quadratic", "width": options.width, "init_scale": options.init_scale},
                       loss={"name": "cross-entropy", "rescale_gradient": options.linf_penalty == 0},
                       optimizer={"name": "normalized-gd", "lr": options.lr, "linf_penalty": options.linf_penalty},
                       train={"batch_size": None, "max_steps": options.max_steps, "eval_every": options.eval_every,
                              "target_accuracy": options.target},
                       probes=["norms-margin", {"name": "entk", "points": options.entk_points}])


# Curve columns reported per trial at t_train and at t_test (None where that step was not reached).
AT_T_TRAIN = {"test_accuracy_at_t_train": "val_accuracy", "entk_change_at_t_train": "entk_change",
              "entk_change_scale_free_at_t_train": "entk_change_scale_free"}
AT_T_TEST = {"linf_at_t_test": "linf_norm", "entk_change_at_t_test": "entk_change",
             "entk_change_scale_free_at_t_test": "entk_change_scale_free"}


def per_trial(curves: dict, trials: int, t_test: list) -> dict:
    """t_train and the curve values at t_train (test accuracy: how much the fit memorized; the eNTK
    change) and at t_test (||theta||_inf, the eNTK change) per trial from the long-format curves."""
    index, step = np.asarray(curves["trial_index"]), np.asarray(curves["step"])
    out = {"t_train": [], **{key: [] for key in (*AT_T_TRAIN, *AT_T_TEST)}}
    for i, reached in zip(range(trials), t_test):
        mine = index == i
        fitted = step[mine][np.asarray(curves["train_accuracy"])[mine] >= 1.0]
        out["t_train"].append(int(fitted[0]) if len(fitted) else None)
        for at_step, columns in ((out["t_train"][-1], AT_T_TRAIN), (reached, AT_T_TEST)):
            at = mine & (step == at_step) if at_step is not None else np.zeros_like(mine)
            for key, column in columns.items():
                out[key].append(float(np.asarray(curves[column])[at][0]) if at.any() else None)
    return out


def median_reached(values) -> float:
    """Median over the trials that reached a value (None: not reached); NaN when none did."""
    known = [v for v in values if v is not None]
    return float(np.median(known)) if known else float("nan")


def verdict(per_p: dict, trials: int) -> tuple[bool, dict]:
    solved = {p: sum(t is not None for t in r["t_test"]) / trials for p, r in per_p.items()}
    ratios = {}
    for p, r in per_p.items():
        ratio = median_reached(r["t_test"]) / median_reached(r["t_train"])  # NaN if either was never reached
        ratios[p] = float(ratio) if np.isfinite(ratio) else None
    norms = [median_reached(r["linf_at_t_test"]) for r in per_p.values()]
    cv = float(np.std(norms) / np.mean(norms)) if len(norms) > 1 and np.all(np.isfinite(norms)) else None
    passed = (all(f >= MIN_SOLVED_FRACTION for f in solved.values())
              and all(r is not None and r >= MIN_GAP_RATIO for r in ratios.values())
              and cv is not None and cv < MAX_NORM_CV)
    return passed, {"solved_fraction": solved, "median_gap_ratio": ratios, "linf_cv_across_p": cv}


# Panels of the figure: (curve column, y label, log y axis), on one log-step axis.
PANELS = (("entk_change", "||K_t - K_0|| / ||K_0|| (eNTK)", True), ("linf_norm", "||theta||_inf", False),
          ("normalized_margin", "q_min / ||theta||_inf^3", False))


def plot(curves_by_p: dict, path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(PANELS), figsize=(18, 4))
    for p, curves in curves_by_p.items():
        step = np.asarray(curves["step"])
        first = np.asarray(curves["trial_index"]) == 0
        for column, style in (("train_accuracy", "--"), ("val_accuracy", "-")):
            axes[0].plot(np.maximum(step[first], 1), np.asarray(curves[column])[first], style, label=f"p={p} {column}")
        for ax, (column, _, _) in zip(axes[1:], PANELS):
            ax.plot(np.maximum(step[first], 1), np.asarray(curves[column])[first], label=f"p={p}")
    axes[0].set(xscale="log", xlabel="step", ylabel="accuracy (trial 0)", title="train (dashed) and test accuracy")
    for ax, (_, label, log_y) in zip(axes[1:], PANELS):
        ax.set(xscale="log", yscale="log" if log_y else "linear", xlabel="step", ylabel=label)
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


@experiment("grokking", GrokkingOptions, "grokking (a+b) mod p: quadratic net, normalized GD, t_train vs t_test "
            "and ||theta||_inf over seeds and p (Mohamadi et al. Fig 4; claim 28)")
def run_grokking(options: GrokkingOptions, store: Store, workers, quiet) -> dict:
    configs = {p: grokking_config(p, options) for p in options.p}
    execute_plan(Plan(experiment="grokking", configs=tuple(configs.values()), seed=options.seed,
                      trials=options.trials), store, workers, None, quiet)
    per_p, curves_by_p = {}, {}
    for p, config in configs.items():
        trials = range(options.trials)
        rows = store.trials_for(config.config_hash(), options.seed, trials)
        t_test = [int(s) if ok else None for s, ok in zip(rows["convergence_step"], rows["converged"])]
        curves_by_p[p] = store.curves_for(config.config_hash(), options.seed, trials)
        per_p[str(p)] = {"n_train": train_pairs(p), "width": configs[p].model.width or defaults.WG_WIDTH_PER_CLASS * p,
                         "t_test": t_test, **per_trial(curves_by_p[p], options.trials, t_test),
                         "final_test_accuracy": [float(a) for a in rows["final_val_accuracy"]]}
    passed, measured = verdict(per_p, options.trials)
    figure = plot(curves_by_p, figure_dir(store) / "grokking.png")
    return {"per_p": per_p, **measured, "claim": CLAIM, "verdict": "PASS" if passed else "FAIL",
            "figures": [figure], "store": str(store.root)}
