"""Claim 18 (Barak et al. HPv3 appendix C.7): greedy layer-wise training fails where end-to-end works."""
from __future__ import annotations

from pathlib import Path

from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, register

SUITE = "hidden-progress"
ZERO = 1e-6  # float32 round-off of a mean over 2^10 inputs; the nonzero gradients are > 1e-2
FULL_WIDTHS = (16, 32, 64, 128, 256)


@register(SUITE, "18", "C.7: deep quadratic MLP, end-to-end vs greedy layer-wise training")
def claim_18(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.papers.hidden_progress.recipes.layerwise import (
        population_label_gradient,
    )

    # The mechanism, exactly over all 2^10 inputs at 3 random inits (L = 3, r = 16, with biases).
    seeds = range(3)
    stage1 = max(population_label_gradient(10, (1, 4, 6, 8), greedy_stage=1, seed=s) for s in seeds)
    end_to_end = min(population_label_gradient(10, (1, 4, 6, 8), greedy_stage=None, seed=s) for s in seeds)
    above_degree = max(population_label_gradient(10, (0, 1, 4, 6, 8), greedy_stage=None, seed=s) for s in seeds)

    options = {"trials": 4} if scale == "quick" else {"trials": 16, "max_steps": 10_000,
                                                      "layerwise_widths": FULL_WIDTHS}
    s = run_experiment("layerwise-counterexample", root, workers, **options)
    o, runs = s["options"], s["runs"]
    setting = (f"(n={o['n']}, k) parity, L={o['depth']} z^2 MLP r={o['width']} with biases, hinge, online SGD "
               f"lr {o['lr']} B={o['batch']}, {o['max_steps']} steps per mode/stage, {o['trials']} seeds")
    e2e4, greedy4, e2e5 = runs["4"]["end-to-end"], runs["4"]["layer-wise"], runs["5"]["end-to-end"]
    sequential = s["layerwise_sequential_accuracy"].get("4")
    greedy_text = f"layer-wise k=4: mean final accuracy {greedy4['mean']:.3f} (earlier layers frozen at init)"
    greedy_values = [greedy4["mean"]]
    if sequential:
        mean_sequential = sum(sequential) / len(sequential)
        greedy_text += f", {mean_sequential:.3f} (stages run one after another with SGD)"
        greedy_values.append(mean_sequential)
    if s["layerwise_mean_by_width"]:
        widths = ", ".join(f"r={w}: {a:.3f}" for w, a in s["layerwise_mean_by_width"].items())
        greedy_text += (f"; by width ({widths}) against 1 + n + C(n,2) = {s['quadratic_feature_dimension']} "
                        "random quadratic features needed to span")
    return [
        CheckResult("18", "exact over {-1,1}^10, S of size 4 (and 5), L=3 r=16, 3 random inits",
                    f"max |E(chi_S grad f)|: greedy stage 1 {stage1:.1e}; end-to-end k=5 {above_degree:.1e}; "
                    f"end-to-end k=4 {end_to_end:.1e} (min)",
                    f"stage 1 and k=5 <= {ZERO:g} (identically 0); k=4 > 1e-3",
                    stage1 <= ZERO and above_degree <= ZERO and end_to_end > 1e-3),
        CheckResult("18", setting, f"end-to-end k=4: mean final accuracy {e2e4['mean']:.3f} "
                    f"({e2e4['converged']}/{o['trials']} reach 100%, t_c {e2e4['convergence_steps']})",
                    ">= 0.99", e2e4["mean"] >= 0.99),
        CheckResult("18", setting, greedy_text, "<= 0.6 (stays near 0.5)", max(greedy_values) <= 0.6),
        CheckResult("18", setting, f"end-to-end k=5 (> 2^(L-1) = 4): mean final accuracy {e2e5['mean']:.3f}",
                    "<= 0.6 (no convergence)", e2e5["mean"] <= 0.6),
    ]
