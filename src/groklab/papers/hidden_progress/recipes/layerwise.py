"""End-to-end versus greedy layer-wise training of a deep quadratic MLP on sparse parity
(Barak et al. HPv3 appendix C.7, claim 18: a counterexample to "deep only works if shallow is good").

An L-layer MLP with z^2 activations computes a polynomial of degree 2^(L-1), so end-to-end training
can fit a k-parity only for k <= 2^(L-1); for larger k even its population gradient carries no
label information. Greedy layer-wise training (Belilovsky et al. 2019) trains layer l with an
auxiliary linear head, layers 1..l-1 frozen. The stage-l network has degree 2^l, so for 2^l < k the
label part E[chi_S grad f] of its population gradient is identically zero (`population_label_gradient`):
for the correlation loss that is the whole gradient, for the hinge loss it is while |f| < 1, and
for the square loss what is left, grad E[f^2], is the same for every target. The layer therefore
learns nothing about S.

Each greedy stage is a registered model (`greedy_stage`) trained through the engine (so stored and
resumable), its earlier layers frozen at their initialization: exactly where population gradient
descent on a zero-gradient stage leaves them, which `k > 2^(L-2)` guarantees for every stage before
the last. Online SGD does move them (noise, and the hinge's label-free pull on |f| > 1), so the
literal procedure, each stage started from the layers SGD left, is run as well
(`sequential_greedy_accuracy`, in memory, not stored); both give the same result.

What decides the layer-wise result is the last stage, which trains on frozen random features: with
width r it sees r random quadratics (w.x + b)^2 of the 1 + n + C(n,2) dimensional space of
quadratics on the cube, and can only use what they span. `layerwise_widths` measures that: at
n = 20, L = 3, k = 4 (lr 0.05, 10^4 steps per stage, 16 seeds) the last stage reaches mean accuracy
0.528, 0.592, 0.749, 0.968 and 1.000 at widths 16, 32, 64, 128 and 256. The counterexample needs
hidden layers well below n^2/2 wide; end-to-end training solves the task at width 16 in ~500 steps.
"""
from __future__ import annotations

import functools
from math import comb

import numpy as np
from pydantic import Field, model_validator

from groklab.config import make_config
from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.figures import plt, save_figure
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.specs import TrialConfig
from groklab.store import Store

LEARNED = 0.99  # claim 18: end-to-end accuracy >= 0.99 where 2^(L-1) >= k
CHANCE_BOUND = 0.6  # "stays at 50%": layer-wise training, and end-to-end for k > 2^(L-1)
END_TO_END = "end-to-end"


class LayerwiseOptions(ExperimentOptions):
    n: int = Field(20, gt=0, description="input dimension")
    ks: tuple[int, ...] = Field((4, 5), description="parity degrees; claim 18 uses 2^(L-1) and one above it")
    depth: int = Field(3, ge=2, description="L: weight layers of the MLP (degree 2^(L-1) with z^2)")
    width: int = Field(16, gt=0, description="units in every hidden layer (UNRECOVERED; layer-wise training "
                       "fails only well below 1 + n + C(n,2), see layerwise_widths)")
    bias: bool = Field(True, description="hidden and output biases (without them the net is even in x and "
                       "scores exactly 50% on every odd k, whatever the degree)")
    batch: int = Field(32, gt=0, description="batch size B (online: fresh samples every step)")
    lr: float = Field(0.05, gt=0, description="SGD learning rate (0.1 diverges in about 1 trial of 8)")
    max_steps: int = Field(4000, gt=0, description="step budget of end-to-end training and of each greedy stage")
    eval_every: int = Field(100, gt=0, description="steps between evaluations")
    trials: int = Field(4, gt=0, description="trials (seeds) per (k, training mode)")
    layerwise_widths: tuple[int, ...] = Field((), description="extra widths at which the last greedy stage is "
                                              "trained, for the smallest k <= 2^(L-1) (the width dependence)")
    sequential_check: bool = Field(True, description="also run greedy training literally (each stage on the "
                                   "layers SGD left, in memory, not stored) for every k <= 2^(L-1)")

    @model_validator(mode="after")
    def _check(self) -> "LayerwiseOptions":
        if not self.ks:
            raise ValueError("ks must name at least one parity degree")
        if max(self.ks) > self.n or min(self.ks) < 1:
            raise ValueError(f"ks ({list(self.ks)}) must lie in 1..n ({self.n})")
        # Earlier stages are frozen at their initialization, which is where greedy training leaves
        # them only while their population gradient is zero (degree 2^l < k for l <= L-2).
        if min(self.ks) <= 2 ** (self.depth - 2):
            raise ValueError(f"ks ({list(self.ks)}) must all exceed 2^(L-2) = {2 ** (self.depth - 2)}: "
                             "below that an intermediate greedy stage learns, and its layer is not frozen at init")
        if self.max_steps % self.eval_every:
            raise ValueError(f"max_steps ({self.max_steps}) must be a multiple of eval_every ({self.eval_every})")
        if self.layerwise_widths and min(self.layerwise_widths) < 1:
            raise ValueError(f"layerwise_widths ({list(self.layerwise_widths)}) must be positive")
        if self.layerwise_widths and not [k for k in self.ks if k <= 2 ** (self.depth - 1)]:
            raise ValueError(f"layerwise_widths needs a k <= 2^(L-1) = {2 ** (self.depth - 1)} in ks")
        return self


def layerwise_config(options: LayerwiseOptions, k: int, stage: int | None, width: int | None = None) -> TrialConfig:
    """(n, k) parity, hinge loss, online SGD, the deep quadratic MLP end-to-end (stage None) or one
    greedy stage."""
    return make_config({"name": "parity", "n": options.n, "k": k},
                       {"name": "deep-mlp", "depth": options.depth, "width": width or options.width,
                        "activation": "square", "bias": options.bias, "greedy_stage": stage},
                       loss={"name": "hinge"}, optimizer={"name": "sgd", "lr": options.lr},
                       train={"batch_size": options.batch, "max_steps": options.max_steps,
                              "eval_every": options.eval_every},
                       probes=["hidden-progress"])


def sequential_greedy_accuracy(options: LayerwiseOptions, k: int) -> list[float]:
    """Greedy layer-wise training run literally, as a cross-check of the frozen-at-init stages:
    stage l starts from the layers that online SGD left after stage l-1 (not their initialization).

    Built from the engine's compiled pieces for each stage (same init, data and evaluation code),
    but the layers handed from stage to stage are not results the store keeps, so this is run in
    memory and not stored. Stage 1 uses the trials' default data stream (it is the stored stage-1
    run); stage l >= 2 draws a fresh stream. Returns each trial's final validation accuracy.
    """
    import jax
    import jax.numpy as jnp

    from groklab.engine.keys import trial_keys
    from groklab.engine.train import compiled_trial

    hidden = None
    for stage in range(1, options.depth):
        compiled = compiled_trial(layerwise_config(options, k, stage))
        lanes = compiled.lanes
        padded = -(-options.trials // lanes) * lanes
        indices = np.resize(np.arange(options.trials), padded)  # whole groups; the padding is ignored
        keys = trial_keys(options.seed, indices, data_seed=None if stage == 1 else stage - 2)
        groups = []
        for start in range(0, padded, lanes):
            part = slice(start, start + lanes)
            params, opt_state, task_state = compiled.init_group(keys["init"][part], keys["task"][part])
            if hidden is not None:  # the layers earlier stages trained, frozen from here on
                params["hidden"][:stage - 1] = jax.tree.map(lambda leaf: leaf[indices[part]], hidden)
                opt_state = compiled.optimizer.init(params)
            active = jnp.ones(lanes, bool)
            for first_step in range(0, options.max_steps, options.eval_every):
                params, opt_state, _ = compiled.train_block(params, opt_state, task_state, keys["data"][part],
                                                            first_step, active)
            groups.append((params, task_state, keys["eval"][part]))
        # Per trial (the next stage may group trials in a different number of lanes).
        hidden = jax.tree.map(lambda *leaves: jnp.concatenate(leaves)[:options.trials],
                              *[params["hidden"] for params, _, _ in groups])
    correct = np.zeros(padded)
    for start, (params, task_state, eval_keys) in zip(range(0, padded, lanes), groups):
        for part in range(len(compiled.task.eval_parts)):
            metrics = compiled.evaluate(part)(params, params, task_state, eval_keys, options.max_steps)
            correct[start:start + lanes] += np.asarray(metrics["val_correct"])
    return [float(c) / sum(compiled.task.eval_parts) for c in correct[:options.trials]]


def population_label_gradient(n: int, support: tuple[int, ...], depth: int = 3, width: int = 16, bias: bool = True,
                              greedy_stage: int | None = 1, seed: int = 0) -> float:
    """max over all parameters of |E_x[chi_S(x) d f(x) / d theta]|, exact over all 2^n inputs, at the
    initialization drawn from `seed`.

    This is the whole label-dependent part of the population gradient: for the correlation loss
    -y f it is minus the gradient; for the square loss (f - y)^2 = f^2 - 2 y f + 1 the gradient is
    grad E[f^2] (the same for every target) minus twice this; for the hinge loss it is minus the
    gradient wherever |f| < 1. For a stage-l network (degree 2^l in x, and so is every df/dtheta)
    it is exactly zero when 2^l < |S|: chi_S is orthogonal to all polynomials of lower degree.
    """
    import jax

    program = _label_gradient_program(n, tuple(support), depth, width, bias, greedy_stage)
    return float(program(jax.random.key(seed)))


@functools.lru_cache(maxsize=None)
def _label_gradient_program(n: int, support: tuple[int, ...], depth: int, width: int, bias: bool,
                            greedy_stage: int | None):
    """`population_label_gradient` as one compiled function of the init key per setting (eagerly,
    every op of the init would compile on its own)."""
    import jax
    import jax.numpy as jnp

    from groklab.models.deep_mlp import DeepMLP, DeepMLPSpec
    from groklab.tasks.bits import all_sign_vectors

    model = DeepMLP(DeepMLPSpec(depth=depth, width=width, bias=bias, greedy_stage=greedy_stage), n, 1)
    x = all_sign_vectors(n)
    chi = jnp.prod(x[:, jnp.asarray(support)], axis=1)

    def largest(key):
        grad = jax.grad(lambda p: jnp.mean(chi * model.apply(p, x)))(model.init(key))
        return jnp.max(jnp.stack([jnp.max(jnp.abs(leaf)) for leaf in jax.tree.leaves(grad)]))

    return jax.jit(largest)


def mode_label(stage: int | None, depth: int) -> str:
    if stage is None:
        return END_TO_END
    return "layer-wise" if stage == depth - 1 else f"layer-wise stage {stage}"


def _held_curves(curves: dict, trials: int, last_step: int, every: int) -> np.ndarray:
    """(trials, evaluations) validation accuracy; a trial that stopped at convergence keeps its
    last value, so means over trials are taken on a common step grid."""
    grid = np.arange(0, last_step + 1, every)
    out = np.full((trials, len(grid)), np.nan)
    for t in range(trials):
        rows = curves["trial_index"] == t
        steps, acc = curves["step"][rows], curves["val_accuracy"][rows]
        out[t, np.searchsorted(grid, steps)] = acc
        for j in range(1, len(grid)):  # forward fill after convergence
            if np.isnan(out[t, j]):
                out[t, j] = out[t, j - 1]
    return out


def plot_layerwise(results: dict, options: LayerwiseOptions, path) -> str:
    """One panel per k on the greedy timeline: stage l occupies steps (l-1)T .. lT."""
    ks = sorted(results)
    figure, axes = plt.subplots(1, len(ks), figsize=(5.5 * len(ks), 4), squeeze=False, layout="constrained")
    stage_colors = ["tab:gray", "tab:green", "tab:purple", "tab:brown"]  # earlier greedy stages
    for ax, k in zip(axes[0], ks):
        for label, run in results[k].items():
            color = ("tab:blue" if run["stage"] is None else "tab:orange" if run["stage"] == options.depth - 1
                     else stage_colors[(run["stage"] - 1) % len(stage_colors)])
            offset = 0 if run["stage"] is None else (run["stage"] - 1) * options.max_steps
            steps = offset + np.arange(run["held"].shape[1]) * options.eval_every
            for trial_curve in run["held"]:
                ax.plot(steps, trial_curve, color=color, lw=0.7, alpha=0.35)
            name = f"{label} (stage {run['stage']}, last)" if label == "layer-wise" else label
            ax.plot(steps, run["held"].mean(axis=0), color=color, lw=2, label=f"{name}: {run['mean']:.3f}")
        ax.axhline(0.5, color="grey", ls="--", lw=1)
        degree = 2 ** (options.depth - 1)
        ax.set(xlabel="step (greedy stages one after another)", ylabel="validation accuracy (noiseless)",
               ylim=(0.35, 1.02), title=f"({options.n},{k})-parity, L={options.depth} (degree {degree}), "
                                        f"r={options.width}")
        ax.legend(fontsize="small", loc="center right")
    return str(save_figure(figure, path))


def plot_width_dependence(by_width: dict, options: LayerwiseOptions, k: int, path) -> str:
    figure, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    widths = sorted(by_width)
    for w in widths:
        ax.scatter([w] * len(by_width[w]), by_width[w], color="tab:orange", s=14, alpha=0.5)
    ax.plot(widths, [np.mean(by_width[w]) for w in widths], "o-", color="tab:orange", label="last greedy stage")
    dim = quadratic_dimension(options.n)
    ax.axvline(dim, color="k", ls=":", lw=1, label=f"1 + n + C(n,2) = {dim}")
    ax.axhline(0.5, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.minorticks_off()
    ax.set(xlabel="hidden width r", ylabel="final validation accuracy", ylim=(0.35, 1.02),
           title=f"greedy layer-wise, ({options.n},{k})-parity, L={options.depth}, {options.max_steps} steps/stage")
    ax.legend(fontsize="small")
    return str(save_figure(figure, path))


def quadratic_dimension(n: int) -> int:
    """Dimension of the multilinear polynomials of degree <= 2 on {-1,1}^n, which random quadratic
    features (w.x + b)^2 span once there are this many of them."""
    return 1 + n + comb(n, 2)


@experiment("layerwise-counterexample", LayerwiseOptions,
            "deep quadratic MLP: end-to-end learns (n,2^(L-1)) parity, greedy layer-wise stays at chance (claim 18)")
def run_layerwise(options: LayerwiseOptions, store: Store, workers, quiet) -> dict:
    depth = options.depth
    stages = [None, *range(1, depth)]
    configs = {(k, stage): layerwise_config(options, k, stage) for k in options.ks for stage in stages}
    learnable = [k for k in options.ks if k <= 2 ** (depth - 1)]
    sweep = {w: layerwise_config(options, learnable[0], depth - 1, w) for w in options.layerwise_widths}
    plan_configs = tuple(dict.fromkeys([*configs.values(), *sweep.values()]))  # a sweep width may be the default
    stats = execute_plan(Plan("layerwise-counterexample", plan_configs, options.seed, options.trials), store,
                         workers, quiet=quiet)

    def final_accuracy(config: TrialConfig) -> list[float]:
        rows = store.trials_for(config.config_hash(), options.seed, range(options.trials))
        return [float(a) for a in rows["final_val_accuracy"]]

    results: dict[int, dict] = {}
    for (k, stage), config in configs.items():
        rows = store.trials_for(config.config_hash(), options.seed, range(options.trials))
        curves = store.curves_for(config.config_hash(), options.seed, range(options.trials))
        acc = [float(a) for a in rows["final_val_accuracy"]]
        results.setdefault(k, {})[mode_label(stage, depth)] = {
            "stage": stage, "accuracy": acc, "mean": float(np.mean(acc)),
            "converged": int(np.sum(rows["converged"])),
            "convergence_steps": [int(s) if ok else None for s, ok in zip(rows["convergence_step"], rows["converged"])],
            "first_layer_movement": float(np.mean(rows["final_hidden_progress"])),
            "held": _held_curves(curves, options.trials, options.max_steps, options.eval_every),
        }

    sequential = {k: sequential_greedy_accuracy(options, k) for k in learnable} if options.sequential_check else {}
    criteria = []
    for k in options.ks:
        e2e, greedy = results[k][END_TO_END]["mean"], results[k]["layer-wise"]["mean"]
        if k <= 2 ** (depth - 1):
            criteria.append({"k": k, "what": "end-to-end mean final accuracy", "value": e2e,
                             "threshold": f">= {LEARNED}", "passed": e2e >= LEARNED})
            criteria.append({"k": k, "what": "layer-wise mean final accuracy", "value": greedy,
                             "threshold": f"<= {CHANCE_BOUND}", "passed": greedy <= CHANCE_BOUND})
            if k in sequential:
                value = float(np.mean(sequential[k]))
                criteria.append({"k": k, "what": "layer-wise (sequential SGD stages) mean final accuracy",
                                 "value": value, "threshold": f"<= {CHANCE_BOUND}", "passed": value <= CHANCE_BOUND})
        else:
            criteria.append({"k": k, "what": f"end-to-end mean final accuracy (k > 2^(L-1) = {2 ** (depth - 1)})",
                             "value": e2e, "threshold": f"<= {CHANCE_BOUND}", "passed": e2e <= CHANCE_BOUND})

    tag = f"n{options.n}-L{depth}-r{options.width}-{plan_configs[0].config_hash()[:8]}"
    figures = [plot_layerwise(results, options, figure_dir(store) / f"layerwise-{tag}.png")]
    by_width = {w: final_accuracy(config) for w, config in sweep.items()}
    if by_width:
        figures.append(plot_width_dependence(by_width, options, learnable[0],
                                             figure_dir(store) / f"layerwise-widths-{tag}.png"))
    return {
        "claim": (f"18 (HPv3 C.7): L={depth} quadratic MLP on ({options.n},k) parity: end-to-end >= {LEARNED} for "
                  f"k <= 2^(L-1), greedy layer-wise <= {CHANCE_BOUND}, end-to-end <= {CHANCE_BOUND} for k > 2^(L-1)"),
        "verdict": "PASS" if all(c["passed"] for c in criteria) else "FAIL",
        "figures": figures,
        "criteria": criteria,
        "accuracy": {str(k): {label: run["mean"] for label, run in modes.items()} for k, modes in results.items()},
        "runs": {str(k): {label: {key: value for key, value in run.items() if key != "held"}
                          for label, run in modes.items()} for k, modes in results.items()},
        "layerwise_sequential_accuracy": {str(k): acc for k, acc in sequential.items()},
        "quadratic_feature_dimension": quadratic_dimension(options.n),
        "layerwise_accuracy_by_width": {str(w): acc for w, acc in by_width.items()},
        "layerwise_mean_by_width": {str(w): float(np.mean(acc)) for w, acc in by_width.items()},
        "wall_seconds": round(stats["wall_seconds"], 2),
        "trials_run_now": stats["trials_run"],
    }
