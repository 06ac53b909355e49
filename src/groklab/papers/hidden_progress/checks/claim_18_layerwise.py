"""Claim 18 (Barak et al. HPv3 appendix C.7): greedy layer-wise training fails where end-to-end works."""
from __future__ import annotations

from pathlib import Path

from groklab import defaults
from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, at_scale, budget, plural, register
from groklab.papers.hidden_progress.checks.common import SUITE, per_seed

ZERO = 1e-6  # float32 round-off of a mean over 2^10 inputs; the nonzero gradients are > 1e-2
FULL_WIDTHS = (16, 32, 64, 128, 256)


@register(SUITE, "18", "C.7: deep quadratic MLP, end-to-end vs greedy layer-wise training")
def claim_18(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.papers.hidden_progress.recipes.layerwise import (
        population_label_gradient,
    )

    # The mechanism, exactly over all 2^10 inputs at 3 random inits (L = 3, r = 16, with biases).
    seeds = range(at_scale(scale, tiny=1, quick=3, full=3))
    stage1 = max(population_label_gradient(10, (1, 4, 6, 8), greedy_stage=1, seed=s) for s in seeds)
    end_to_end = min(population_label_gradient(10, (1, 4, 6, 8), greedy_stage=None, seed=s) for s in seeds)
    above_degree = max(population_label_gradient(10, (0, 1, 4, 6, 8), greedy_stage=None, seed=s) for s in seeds)

    # Spec: L = 3, k = 4, n = 20 (widths UNRECOVERED); each statement is about every seed.
    every = at_scale(scale, tiny=50, quick=defaults.EVAL_EVERY, full=defaults.EVAL_EVERY)
    options = dict(
        n=at_scale(scale, tiny=10, quick=20, full=20),
        trials=at_scale(scale, tiny=2, quick=4, full=16),
        max_steps=budget(scale, tiny=500, quick=4000, full=10_000, eval_every=every), eval_every=every,
        layerwise_widths=at_scale(scale, tiny=(), quick=(), full=FULL_WIDTHS),
        sequential_check=at_scale(scale, tiny=False, quick=True, full=True))
    s = run_experiment("layerwise-counterexample", root, workers, **options)
    o, runs = s["options"], s["runs"]
    setting = (f"(n={o['n']}, k) parity, L={o['depth']} z^2 MLP r={o['width']} with biases, hinge, online SGD "
               f"lr {o['lr']} B={o['batch']}, {o['max_steps']} steps per mode/stage, {plural(o['trials'], 'seed')}")
    e2e4, greedy4, e2e5 = runs["4"]["end-to-end"], runs["4"]["layer-wise"], runs["5"]["end-to-end"]
    sequential = s["layerwise_sequential_accuracy"].get("4")
    greedy_text = (f"layer-wise k=4 final accuracy per seed {per_seed(greedy4['accuracy'], '.3f')} (earlier layers "
                   "frozen at init)")
    greedy_values = list(greedy4["accuracy"])
    if sequential:
        greedy_text += f", {per_seed(sequential, '.3f')} (stages run one after another with SGD)"
        greedy_values += list(sequential)
    if s["layerwise_mean_by_width"]:
        widths = ", ".join(f"r={w}: {a:.3f}" for w, a in s["layerwise_mean_by_width"].items())
        greedy_text += (f"; mean by width ({widths}) against 1 + n + C(n,2) = {s['quadratic_feature_dimension']} "
                        "random quadratic features needed to span")
    return [
        CheckResult("18", f"exact over {{-1,1}}^10, S of size 4 (and 5), L=3 r=16, {plural(len(seeds), 'random init')}",
                    f"max |E(chi_S grad f)|: greedy stage 1 {stage1:.1e}; end-to-end k=5 {above_degree:.1e}; "
                    f"end-to-end k=4 {end_to_end:.1e} (min)",
                    f"stage 1 and k=5 <= {ZERO:g} (identically 0); k=4 > 1e-3",
                    stage1 <= ZERO and above_degree <= ZERO and end_to_end > 1e-3),
        CheckResult("18", setting, f"end-to-end k=4 final accuracy per seed {per_seed(e2e4['accuracy'], '.3f')} "
                    f"({e2e4['converged']}/{o['trials']} reach 100%, t_c {per_seed(e2e4['convergence_steps'], 'd')})",
                    ">= 0.99 for every seed", min(e2e4["accuracy"]) >= 0.99),
        CheckResult("18", setting, greedy_text, "<= 0.6 (stays near 0.5) for every seed and stage schedule",
                    max(greedy_values) <= 0.6),
        CheckResult("18", setting, f"end-to-end k=5 (> 2^(L-1) = 4) final accuracy per seed "
                    f"{per_seed(e2e5['accuracy'], '.3f')}", "<= 0.6 (no convergence) for every seed",
                    max(e2e5["accuracy"]) <= 0.6),
    ]
