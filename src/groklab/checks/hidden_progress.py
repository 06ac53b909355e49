"""Checks for Barak et al. 2022, Hidden Progress (claims 1-19; those implemented so far)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from groklab.checks.base import CheckResult, Scale, register
from groklab.store import Store

SUITE = "hidden-progress"


@register(SUITE, "1", "Fig 1 left: (50,3) plateau then abrupt convergence")
def claim_1(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.experiments.parity import run_parity
    from groklab.experiments.parity_scaling import scaling_configs

    trials = 8 if scale == "quick" else 32
    config = scaling_configs([50], 3, 100, 32, 0.1, 20_000)[0]
    s = run_parity(config, 0, trials, Store(root), workers, quiet=True, experiment="check-hidden-progress")
    setting = f"(50,3) ReLU r=100 B=32 SGD 0.1 hinge, {trials} seeds"
    return [
        CheckResult("1", setting, f"{s['solved']}/{trials} reach 100% within 2e4 steps",
                    ">= 80% of seeds", s["solved"] >= 0.8 * trials),
        CheckResult("1", setting, f"mean val acc at t_c/2 = {s['plateau_accuracy_at_half_tc']:.3f}",
                    "<= 0.55", s["plateau_accuracy_at_half_tc"] is not None and s["plateau_accuracy_at_half_tc"] <= 0.55),
    ]


@register(SUITE, "2", "Fig 1 right: t_c ~ n^alpha at k = 3")
def claim_2(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.experiments.parity_scaling import EXPONENT_RANGE, run_parity_scaling, scaling_configs

    trials = 8 if scale == "quick" else 25
    configs = scaling_configs([20, 30, 40, 50], 3, 100, 32, 0.1, 20_000)
    s = run_parity_scaling(configs, 0, trials, Store(root), workers, quiet=True)
    medians = [s["per_n"][n]["median_convergence_step"] for n in (20, 30, 40, 50)]
    fit = s["fit"]
    low, high = EXPONENT_RANGE
    setting = f"k=3, n in 20..50, {trials} seeds"
    return [
        CheckResult("2", setting, f"median t_c {medians}", "monotone in n",
                    None not in medians and medians == sorted(medians)),
        CheckResult("2", setting, f"alpha = {fit['exponent']:.2f} [{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]",
                    f"in [{low}, {high}]", low <= fit["exponent"] <= high),
    ]


@register(SUITE, "9", "Fig 3: hidden progress rho separates the task from random labels")
def claim_9(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.engine import train_chunk
    from groklab.specs import make_config

    trials = 8 if scale == "quick" else 32
    common = dict(model={"name": "mlp", "width": 100}, train={"max_steps": 20_000}, probes=["hidden-progress"])
    true = train_chunk(make_config({"name": "parity", "n": 20, "k": 3}, **common), 0, range(trials))
    converged = true.convergence_step[true.convergence_step > 0]
    half = int(np.median(converged) // 2 // 100 * 100) or 100
    control_config = make_config({"name": "parity", "n": 20, "k": 3, "random_labels": True},
                                 common["model"], train={"max_steps": half}, probes=["hidden-progress"])
    control = train_chunk(control_config, 0, range(trials))

    def at(curves, step, column):
        rows = curves["step"] == step
        return curves[column][rows]

    rho_true = float(np.mean(at(true.curves, half, "hidden_progress")))
    rho_random = float(np.mean(at(control.curves, half, "hidden_progress")))
    # Relevant weights overtake irrelevant ones before validation accuracy passes 0.6.
    early = []
    for trial in range(trials):
        rows = true.curves["trial_index"] == trial
        acc, rel, irr = (true.curves[c][rows] for c in ("val_accuracy", "relevant_movement_min",
                                                          "irrelevant_movement_max"))
        first_overtake = np.flatnonzero(rel > irr)
        first_06 = np.flatnonzero(acc > 0.6)
        early.append(len(first_overtake) > 0 and len(first_06) > 0 and first_overtake[0] <= first_06[0])
    setting = f"(20,3) ReLU r=100, {trials} seeds, t_c/2 = {half}"
    return [
        CheckResult("9", setting, f"rho_true / rho_random = {rho_true:.3f} / {rho_random:.3f} at t_c/2",
                    "ratio >= 2", rho_true >= 2 * rho_random),
        CheckResult("9", setting, f"{sum(early)}/{trials} trials: relevant > irrelevant movement before acc 0.6",
                    ">= 80% of trials", sum(early) >= 0.8 * trials),
    ]


@register(SUITE, "11", "Prop 5: one big-batch gradient finds the support")
def claim_11(scale: Scale, root: Path, workers) -> list[CheckResult]:
    import jax

    from groklab.probes.population_gradient import (monte_carlo_population_gradient,
                                                     population_gradient_single_neuron, recover_support)

    # Spec section 1.6 [cal], as printed: |E grad| of the relevant and the largest irrelevant coordinate.
    table = {(11, 2): (".1230", ".01367"), (15, 2): (".1047", ".00806"), (15, 4): (".00806", ".00220"),
             (13, 4): (".01025", ".00342")}
    agree = 0
    for (n, k), printed in table.items():
        grad = np.abs(population_gradient_single_neuron(n, tuple(range(k)), 1.0))
        for exact, text in zip((grad[:k].min(), grad[k:].max()), printed):
            half_unit = 0.5 * 10.0 ** -(len(text) - 1)  # agreement to the printed digits
            agree += abs(exact - float(text)) <= half_unit
    trials = 100
    keys = jax.random.split(jax.random.key(0), trials)
    support = (2, 9)
    estimate = jax.vmap(lambda key: monte_carlo_population_gradient(15, support, 1.0, samples=20_000, key=key))(keys)
    found = jax.vmap(lambda g: recover_support(g, 2))(estimate.mean)
    recovered = int(np.sum(np.all(np.asarray(found) == np.array(support), axis=1)))
    return [
        CheckResult("11", "ReLU neuron at w=1, correlation loss, exact over 2^n inputs",
                    f"{agree}/8 table values agree to every printed digit", "8/8", agree == 8),
        CheckResult("11", "(15,2), Monte-Carlo gradient with B=2e4, 100 trials",
                    f"{recovered}/100 recover S", ">= 95/100", recovered >= 95),
    ]
