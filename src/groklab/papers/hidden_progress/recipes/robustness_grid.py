"""The robustness grid of Barak et al. section 3.1, Empirical Finding 1 (claim 3; claim 4's roster).

The paper: for every n in {10, 20, 30}, k in {2, 3, 4}, B in {2^0, ..., 2^10}, init in {uniform,
Gaussian, Bernoulli}, loss in {hinge, square, cross entropy} and architecture (i)-(xv), SGD reaches
100% validation accuracy within 10^5 steps in >= 20% of 25 seeds for at least one eta in
{1e-3, 1e-2, 0.1, 1}. That is 13,365 configurations, 53,460 with the etas (GPU scale, `full_grid`).

By default this runs a stratified random sample: every architecture appears (once each when
`configs` = 15), and each other axis is balanced (each value used equally often up to rounding),
so a small sample still covers the grid's range. Each sampled configuration is trained at every
learning rate with `seeds` seeds; its best-eta success rate passes at >= 1/5 (the paper's 20%).
The quick default narrows the grid to fit a 2-core CPU (stated in the summary's `subset`): a
10^4-step budget instead of 10^5 and B <= 2^6, because width-1000 architectures at B = 1024 cost
~10^8 FLOPs per step. A configuration that fails under the reduced budget is reported as failing.
Measured: the quick default (15 configurations x 4 etas x 5 seeds) took 9.8 min wall, 5.6 CPU-min,
on a 2-core CPU shared with other jobs; compiling 60 configs is a large part of that.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter

import numpy as np
from pydantic import Field, field_validator, model_validator

from groklab.errors import GroklabInputError
from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.figures import plt, save_figure
from groklab.papers.hidden_progress.roster import (
    ENTRIES,
    parse_roster_names,
    roster_config,
)
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.store import Store

SUCCESS_RATE = 0.2  # the paper's "solves": >= 20% of seeds within the budget, for the best eta
PAPER_BUDGET = 100_000
PAPER_LEARNING_RATES = (1e-3, 1e-2, 0.1, 1.0)
INITS = ("uniform", "gaussian", "bernoulli")
LOSSES = ("hinge", "square", "logistic")  # "logistic" is the paper's binary "cross entropy"
AXES = ("architecture", "n", "k", "batch_size", "init", "loss")


class RobustnessGridOptions(ExperimentOptions):
    configs: int = Field(15, gt=0, description="sampled configurations (each architecture appears once at 15); "
                         "ignored with --full-grid")
    seeds: int = Field(5, gt=0, description="trials per configuration and learning rate (25 in the paper)")
    learning_rates: tuple[float, ...] = Field(PAPER_LEARNING_RATES, description="eta grid; a configuration "
                                              "scores its best eta")
    budget: int = Field(10_000, gt=0, description="step budget per trial: success = t_c <= budget (1e5 in the paper)")
    eval_every: int = Field(250, gt=0, description="steps between evaluations (t_c resolution; keeps evaluation "
                            "cheap next to training at small B)")
    ns: tuple[int, ...] = Field((10, 20, 30), description="input dimensions n")
    ks: tuple[int, ...] = Field((2, 3, 4), description="parity degrees k")
    batch_exponents: tuple[int, ...] = Field((0, 1, 2, 3, 4, 5, 6), description="batch sizes 2^e "
                                             "(0..10 in the paper)")
    inits: str = Field(",".join(INITS), description="comma-separated init schemes")
    losses: str = Field(",".join(LOSSES), description="comma-separated losses ('logistic' = the paper's cross entropy)")
    architectures: str = Field("all", description="'all' = (i)-(xv), or comma-separated roster names, e.g. 'i,vi,xv'")
    sample_seed: int = Field(0, ge=0, description="which configurations are sampled")
    full_grid: bool = Field(False, description="enumerate the whole grid instead of sampling (GPU scale)")

    @field_validator("learning_rates")
    @classmethod
    def _positive_rates(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if not values or min(values) <= 0:
            raise ValueError("must be one or more positive learning rates")
        return values

    @field_validator("ns", "ks")
    @classmethod
    def _positive_ints(cls, values: tuple[int, ...]) -> tuple[int, ...]:
        if not values or min(values) <= 0:
            raise ValueError("must be one or more positive integers")
        return values

    @field_validator("batch_exponents")
    @classmethod
    def _exponents(cls, values: tuple[int, ...]) -> tuple[int, ...]:
        if not values or min(values) < 0 or max(values) > 16:
            raise ValueError("must be one or more exponents in 0..16")
        return values

    @field_validator("inits")
    @classmethod
    def _inits(cls, text: str) -> str:
        _names(text, INITS + ("sign",), "init scheme")
        return text

    @field_validator("losses")
    @classmethod
    def _losses(cls, text: str) -> str:
        _names(text, LOSSES + ("correlation",), "loss")
        return text

    @field_validator("architectures")
    @classmethod
    def _architectures(cls, text: str) -> str:
        try:
            parse_roster_names(text)
        except GroklabInputError as err:
            raise ValueError(str(err).removeprefix("architecture: ")) from None
        return text

    @model_validator(mode="after")
    def _cross(self) -> "RobustnessGridOptions":
        if self.budget % self.eval_every:
            raise ValueError(f"budget ({self.budget}) must be a multiple of eval_every ({self.eval_every})")
        if min(self.ns) < max(self.ks):
            raise ValueError(f"ks (largest {max(self.ks)}) must be at most every n (smallest {min(self.ns)})")
        return self


def _names(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise ValueError(f"needs at least one {what}")
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r} (allowed: {', '.join(allowed)})")
    return tuple(dict.fromkeys(names))


def grid_axes(options: RobustnessGridOptions) -> dict[str, tuple]:
    return {
        "architecture": parse_roster_names(options.architectures),
        "n": tuple(dict.fromkeys(options.ns)),
        "k": tuple(dict.fromkeys(options.ks)),
        "batch_size": tuple(2**e for e in dict.fromkeys(options.batch_exponents)),
        "init": _names(options.inits, INITS + ("sign",), "init scheme"),
        "loss": _names(options.losses, LOSSES + ("correlation",), "loss"),
    }


def sample_grid(axes: dict[str, tuple], count: int, seed: int) -> list[dict]:
    """`count` distinct grid points, stratified: architectures are dealt out from shuffled rounds of
    the whole list (so each appears once before any appears twice), and every other axis is a
    shuffled column in which each value appears equally often up to rounding."""
    rng = np.random.default_rng(seed)
    total = int(np.prod([len(values) for values in axes.values()]))
    count = min(count, total)

    def balanced_column(values: tuple) -> list:
        rounds = [list(rng.permutation(len(values))) for _ in range(-(-count // len(values)))]
        column = [values[i] for i in itertools.chain.from_iterable(rounds)][:count]
        return column if len(column) <= 1 else [column[i] for i in rng.permutation(len(column))]

    architectures = [axes["architecture"][i] for r in range(-(-count // len(axes["architecture"])))
                     for i in rng.permutation(len(axes["architecture"]))][:count]
    columns = {"architecture": architectures, **{axis: balanced_column(axes[axis]) for axis in AXES[1:]}}
    points, seen = [], set()
    for row in range(count):
        point = {axis: columns[axis][row] for axis in AXES}
        for _ in range(1000):  # a rare repeat is re-drawn (architecture kept) so every point is distinct
            key = tuple(point[a] for a in AXES)
            if key not in seen:
                break
            point = {"architecture": point["architecture"],
                     **{axis: axes[axis][rng.integers(len(axes[axis]))] for axis in AXES[1:]}}
        seen.add(tuple(point[a] for a in AXES))
        points.append(point)
    return points


def full_grid(axes: dict[str, tuple]) -> list[dict]:
    return [dict(zip(AXES, combo)) for combo in itertools.product(*(axes[a] for a in AXES))]


def point_label(point: dict) -> str:
    return (f"({point['architecture']}) ({point['n']},{point['k']}) B={point['batch_size']} "
            f"{point['init']} {point['loss']}")


def point_config(point: dict, lr: float, budget: int, eval_every: int, lanes: int | None = None):
    return roster_config(point["architecture"], point["n"], point["k"], lr=lr, batch_size=point["batch_size"],
                         max_steps=budget, eval_every=eval_every, loss=point["loss"], init=point["init"], lanes=lanes)


def cpu_lanes(seeds: int) -> int | None:
    """On CPU, a group just large enough for the seeds (5 seeds: 8 lanes instead of 16 padded ones);
    None elsewhere (the accelerator default)."""
    import jax

    if jax.default_backend() != "cpu":
        return None
    return min(16, 1 << max(0, seeds - 1).bit_length())


def solved_counts(store: Store, hashes: list[str], seed: int, trials: int) -> dict[str, dict]:
    """Per config hash, over its trials 0..trials-1, in one query over the store: converged trials,
    their median t_c (None if none converged) and diverged trials."""
    table = store.connect().sql(
        "SELECT config_hash, count(*) AS total, count(*) FILTER (WHERE converged) AS solved, "
        "median(convergence_step) FILTER (WHERE converged) AS median_step, "
        "count(*) FILTER (WHERE status = 'diverged') AS diverged FROM trials "
        "WHERE seed = $1 AND trial_index < $2 AND list_contains($3, config_hash) GROUP BY config_hash",
        params=[seed, trials, sorted(set(hashes))]).fetchall()
    found = {h: {"total": int(total), "solved": int(solved), "median_step": None if median is None else float(median),
                 "diverged": int(diverged)} for h, total, solved, median, diverged in table}
    missing = [h for h in hashes if h not in found or found[h]["total"] != trials]
    if missing:
        raise RuntimeError(f"store holds {len(missing)} configs with missing trials (e.g. {missing[0]})")
    return found


def plot_best_success(rows: list[dict], seeds: int, path, title: str) -> str:
    """One horizontal bar per sampled configuration: its best-eta success rate; failures in red."""
    figure, ax = plt.subplots(figsize=(7.5, 0.32 * len(rows) + 1.2))
    rates = [r["best_success_rate"] for r in rows]
    ax.barh(range(len(rows)), rates, color=["tab:blue" if r["passed"] else "tab:red" for r in rows])
    ax.axvline(SUCCESS_RATE, color="black", linestyle="--", linewidth=1, label="1/5 (paper's 20%)")
    for i, r in enumerate(rows):  # the count, so that a zero-width (failed) bar still shows
        ax.text(r["best_success_rate"] + 0.01, i, f"{round(r['best_success_rate'] * seeds)}/{seeds}",
                va="center", fontsize=7, color="black" if r["passed"] else "tab:red")
    labels = [f"{r['label']}  [best eta {r['best_learning_rate']:g}]" if r["best_success_rate"] > 0
              else f"{r['label']}  [no eta solves]" for r in rows]
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    for tick, r in zip(ax.get_yticklabels(), rows):
        tick.set_color("black" if r["passed"] else "tab:red")
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("success rate at the best eta (t_c <= budget)")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=7)
    return str(save_figure(figure, path))


def plot_pass_heatmap(rows: list[dict], architectures: tuple[str, ...], batch_sizes: tuple[int, ...], path,
                      title: str) -> str:
    """Fraction of configurations passing, per architecture x batch size (for the full grid)."""
    passed = np.full((len(architectures), len(batch_sizes)), np.nan)
    for i, arch in enumerate(architectures):
        for j, batch in enumerate(batch_sizes):
            cell = [r["passed"] for r in rows if r["architecture"] == arch and r["batch_size"] == batch]
            if cell:
                passed[i, j] = np.mean(cell)
    figure, ax = plt.subplots(figsize=(0.5 * len(batch_sizes) + 2.5, 0.35 * len(architectures) + 1.5))
    image = ax.imshow(passed, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(batch_sizes)), [str(b) for b in batch_sizes], fontsize=7)
    ax.set_yticks(range(len(architectures)), [f"({a})" for a in architectures], fontsize=7)
    ax.set_xlabel("batch size B")
    ax.set_title(title, fontsize=9)
    figure.colorbar(image, ax=ax, label="fraction of configs passing")
    return str(save_figure(figure, path))


def subset_text(options: RobustnessGridOptions, axes: dict[str, tuple], points: list[dict]) -> str:
    paper = (options.budget == PAPER_BUDGET and tuple(sorted(axes["batch_size"])) == tuple(2**e for e in range(11))
             and tuple(sorted(options.learning_rates)) == PAPER_LEARNING_RATES and options.seeds >= 25)
    how = "the whole grid" if options.full_grid else f"a stratified sample of {len(points)} configurations"
    return (f"{how}: n in {list(axes['n'])}, k in {list(axes['k'])}, B in {list(axes['batch_size'])}, "
            f"init in {list(axes['init'])}, loss in {list(axes['loss'])}, architectures "
            f"{', '.join(f'({a})' for a in axes['architecture'])}; eta in {list(options.learning_rates)}; "
            f"{options.seeds} seeds; budget {options.budget} steps, evaluated every {options.eval_every}"
            + ("" if paper else f" (paper: B up to 1024, 25 seeds, budget {PAPER_BUDGET})"))


@experiment("robustness-grid", RobustnessGridOptions,
            "Empirical Finding 1: a stratified sample of the (n,k,B,init,loss,architecture) grid; best-eta "
            "success >= 1/5 per configuration (claim 3)")
def run_robustness_grid(options: RobustnessGridOptions, store: Store, workers, quiet) -> dict:
    axes = grid_axes(options)
    points = full_grid(axes) if options.full_grid else sample_grid(axes, options.configs, options.sample_seed)
    lanes = cpu_lanes(options.seeds)
    configs = {(i, lr): point_config(point, lr, options.budget, options.eval_every, lanes)
               for i, point in enumerate(points) for lr in options.learning_rates}
    stats = execute_plan(Plan("robustness-grid", tuple(dict.fromkeys(configs.values())), options.seed, options.seeds),
                         store, workers, quiet=quiet)
    solved = solved_counts(store, [c.config_hash() for c in configs.values()], options.seed, options.seeds)
    rows = []
    for i, point in enumerate(points):
        results = {lr: solved[configs[(i, lr)].config_hash()] for lr in options.learning_rates}
        rates = {lr: result["solved"] / options.seeds for lr, result in results.items()}
        # Best eta: highest success rate, ties broken by the lower median t_c of the solved trials.
        best = max(options.learning_rates, key=lambda lr: (rates[lr], -(results[lr]["median_step"] or np.inf)))
        rows.append({"label": point_label(point), **point,
                     "success_rate_by_lr": {str(lr): r for lr, r in rates.items()},
                     "diverged_by_lr": {str(lr): result["diverged"] for lr, result in results.items()},
                     "best_learning_rate": best, "best_success_rate": rates[best],
                     "best_median_convergence_step": results[best]["median_step"],
                     "passed": rates[best] >= SUCCESS_RATE})
    failed = [r["label"] for r in rows if not r["passed"]]
    by_arch = Counter(r["architecture"] for r in rows)
    passed_by_arch = Counter(r["architecture"] for r in rows if r["passed"])
    title = (f"Robustness grid: {len(rows)} configs x {len(options.learning_rates)} etas x {options.seeds} seeds, "
             f"budget {options.budget}")
    digest = hashlib.sha256(json.dumps(options.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:8]
    tag = f"robustness-grid-{'full' if options.full_grid else f'sample{options.sample_seed}-c{len(rows)}'}-{digest}"
    if len(rows) <= 80:
        figure = plot_best_success(rows, options.seeds, figure_dir(store) / f"{tag}.png", title)
    else:
        figure = plot_pass_heatmap(rows, axes["architecture"], axes["batch_size"], figure_dir(store) / f"{tag}.png",
                                   title)
    return {
        "claim": "3 (Empirical Finding 1): every configuration solves the parity (>= 1/5 of seeds within the "
                 "budget) for its best eta",
        "verdict": "PASS" if not failed else "FAIL",
        "figures": [figure],
        "subset": subset_text(options, axes, points),
        "configs": len(rows),
        "passed": len(rows) - len(failed),
        "failed": failed,
        "passed_by_architecture": {f"({a})": f"{passed_by_arch[a]}/{by_arch[a]}" for a in axes["architecture"]
                                   if by_arch[a]},
        "results": rows,
        "trials_run_now": stats["trials_run"],
        "wall_seconds": round(stats["wall_seconds"], 2),
        "architectures": {f"({a})": ENTRIES[a].description for a in axes["architecture"]},
    }
