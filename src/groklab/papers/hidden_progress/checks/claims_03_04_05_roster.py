"""Roster checks for Hidden Progress (claims 3, 4, 5): the robustness grid, the less robust
configurations (*i)-(*iii), and the missing plateau of wide z^k MLPs (Barak et al. section 3.1)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from groklab.checks.base import CheckResult, Scale, register
from groklab.store import Store

SUITE = "hidden-progress"
SUCCESS_RATE = 0.2  # the paper's "solves": >= 20% of seeds within the budget


@register(SUITE, "3", "Empirical Finding 1: a stratified sample of the robustness grid solves at its best eta")
def claim_3(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.catalog import run_experiment

    if scale == "quick":  # 6 architectures, B <= 64, a tenth of the paper's budget
        options = dict(configs=6, seeds=5, budget=5000, eval_every=250, batch_exponents=(0, 1, 2, 3, 4, 5, 6))
    else:  # the paper's grid ranges and budget; B up to 1024 at width 1000 is slow on a CPU
        options = dict(configs=50, seeds=5, budget=100_000, eval_every=500, batch_exponents=tuple(range(11)))
    s = run_experiment("robustness-grid", Store(root), workers, quiet=True, **options)
    shown = "; ".join(f"{r['label']}: {r['best_success_rate']:.0%}" for r in s["results"][:12])
    more = f"; ... ({len(s['results']) - 12} more)" if len(s["results"]) > 12 else ""
    failed = f"; failed: {', '.join(s['failed'])}" if s["failed"] else ""
    return [CheckResult("3", s["subset"], f"{s['passed']}/{s['configs']} configurations solve at their best eta "
                        f"({shown}{more}){failed}", ">= 1/5 of seeds for every configuration", not s["failed"])]


def _best_eta(arch: str, n: int, k: int, batch: int, learning_rates, seeds: int, budget: int, eval_every: int,
              store: Store, workers, model_overrides: dict | None = None) -> tuple[float, dict[float, int]]:
    """Success counts per learning rate for one roster architecture; returns (best lr, counts)."""
    from groklab.papers.hidden_progress.roster import roster_config
    from groklab.plan import Plan
    from groklab.runner import execute_plan

    configs = {lr: roster_config(arch, n, k, lr=lr, batch_size=batch, max_steps=budget, eval_every=eval_every,
                                 model_overrides=model_overrides) for lr in learning_rates}
    execute_plan(Plan("check-hidden-progress", tuple(configs.values()), 0, seeds), store, workers, quiet=True)
    rows = {lr: store.trials_for(c.config_hash(), 0, range(seeds)) for lr, c in configs.items()}
    solved = {lr: int(np.sum(r["converged"])) for lr, r in rows.items()}

    def median_step(lr: float) -> float:
        steps = [s for s, ok in zip(rows[lr]["convergence_step"], rows[lr]["converged"]) if ok]
        return float(np.median(steps)) if steps else np.inf

    # Best: most seeds solved, ties broken by the lower median t_c.
    return max(learning_rates, key=lambda lr: (solved[lr], -median_step(lr))), solved


@register(SUITE, "4", "Less robust configurations: (*i), (*ii) and the Transformer (*iii) succeed at B = 32")
def claim_4(scale: Scale, root: Path, workers) -> list[CheckResult]:
    store = Store(root)
    quick = scale == "quick"
    seeds = 5 if quick else 25
    rates = (0.01, 0.1, 1.0) if quick else (1e-3, 1e-2, 0.1, 1.0)
    budget = 20_000 if quick else 100_000
    rows = []
    for arch in ("*i", "*ii"):
        best, solved = _best_eta(arch, 20, 3, 32, rates, seeds, budget, 100, store, workers)
        rows.append(CheckResult(
            "4", f"({arch}) width k=3 on (20,3), B=32, SGD eta in {list(rates)}, hinge, {seeds} seeds, "
                 f"budget {budget}",
            f"best eta {best}: {solved[best]}/{seeds} solve (per eta: {solved})",
            f">= {SUCCESS_RATE:.0%} of seeds", solved[best] >= SUCCESS_RATE * seeds))
    # (*iii) at paper size (d_emb 1024, 128 heads, Adam 3e-4) is GPU work; a CPU runs a narrow one.
    # [cal] (10,2), d_emb 32, Adam 1e-3: 8/8 by step 1400; (12,3), d_emb 64, Adam 3e-3: 5/5 by step 5900.
    if quick:
        n, k, model, rates, budget = 10, 2, {"d_emb": 32, "heads": 4, "d_attn": 8}, (1e-3,), 5000
    else:
        n, k, model, rates, budget = 12, 3, {"d_emb": 64, "heads": 8, "d_attn": 8}, (1e-3, 3e-3), 20_000
    best, solved = _best_eta("*iii", n, k, 32, rates, seeds, budget, 100, store, workers, model_overrides=model)
    rows.append(CheckResult(
        "4", f"(*iii) Transformer d_emb {model['d_emb']}, {model['heads']} heads x d_attn {model['d_attn']} "
             f"(paper: 1024, 128 x 8) on ({n},{k}), B=32, Adam lr in {list(rates)}, hinge, {seeds} seeds, "
             f"budget {budget}",
        f"best lr {best}: {solved[best]}/{seeds} solve", f">= {SUCCESS_RATE:.0%} of seeds",
        solved[best] >= SUCCESS_RATE * seeds))
    return rows


@register(SUITE, "5", "No plateau for wide z^k MLPs: (vi) learns from the start, (iii) ReLU plateaus")
def claim_5(scale: Scale, root: Path, workers) -> list[CheckResult]:
    """Run at both the default Xavier-uniform init and Kaiming-Gaussian: the paper's init for this
    figure is unrecovered, and the answer depends on it ([cal] (20,3), 2 seeds: (vi) reaches 0.58 at
    t_c/2 under Xavier-uniform but 0.999 under Kaiming-Gaussian; (iii) 0.51-0.54 under both)."""
    from groklab import analysis
    from groklab.engine import train_chunk
    from groklab.papers.hidden_progress.roster import roster_config

    # Width 1000 at B = 1024 costs ~1e8 FLOPs per step: quick runs (20,3) with 2 seeds in one group
    # of exactly 2 lanes (train_chunk directly, so no padding lanes are computed; not stored).
    n, k, seeds, budget = (20, 3, 2, 10_000) if scale == "quick" else (50, 3, 5, 50_000)
    batch, lr = 1024, 0.01
    rows = []
    for init, init_name in (("uniform", "Xavier-uniform"), ("gaussian", "Kaiming-Gaussian")):
        for arch, words, threshold, passes in (("vi", "z^k MLP", ">= 0.65", lambda a: a >= 0.65),
                                               ("iii", "ReLU MLP", "<= 0.6", lambda a: a <= 0.6)):
            config = roster_config(arch, n, k, lr=lr, batch_size=batch, max_steps=budget, eval_every=100, init=init)
            started = time.perf_counter()
            result = train_chunk(config, 0, range(seeds), lanes=seeds)
            seconds = time.perf_counter() - started
            converged = {i: int(s) for i, s in enumerate(result.convergence_step) if s >= 0}
            accuracy = analysis.plateau_accuracy(result.curves, converged, 0.5)
            shown = "n/a (none converged)" if accuracy is None else f"{accuracy:.3f}"
            setting = (f"({arch}) {words} r=1000, {init_name} init, ({n},{k}) B={batch} SGD eta={lr} hinge, "
                       f"{seeds} seeds, budget {budget}" + (" (paper: (50,3))" if n != 50 else ""))
            rows.append(CheckResult(
                "5", setting, f"val acc at t_c/2 = {shown}; t_c = {result.convergence_step.tolist()}; {seconds:.0f} s",
                threshold, accuracy is not None and passes(accuracy)))
    return rows
