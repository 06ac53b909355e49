"""Check of claim 27 (Mohamadi et al. Figs 1 left, 2 right and 5): the eNTK barely moves until the
training set is fit and moves far more afterwards, measured as change(t_test) / change(t_train) of
the raw relative change ||K_t - K_0||_F / ||K_0||_F ([cal2]: 12.6-175 under normalized GD eta 10).
The scale-free change is recorded beside it as INFO: [cal2] found it already 0.40-0.71 at t_train,
so much of the raw ratio is weight-norm growth."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, at_scale, budget, plural, register
from groklab.defaults import ENTK_PROBE_POINTS
from groklab.papers.why_grok.checks.claims_23_28 import SUITE
from groklab.papers.why_grok.recipes.grokking import median_reached

MIN_MEDIAN_RATIO = 10.0  # change(t_test) / change(t_train): "orders of magnitude larger afterwards"
MIN_SEED_RATIO = 5.0  # and no seed far below it (the "each seed >= 5")


def change_ratios(per_p: dict) -> dict[str, list[float]]:
    """Per p, change(t_test) / change(t_train) for every trial that reached both."""
    return {p: [test / fit for fit, test in zip(r["entk_change_at_t_train"], r["entk_change_at_t_test"])
                if fit is not None and test is not None and fit > 0]
            for p, r in per_p.items()}


@register(SUITE, "27", "Figs 1/2/5: the eNTK moves >= 10x more by t_test than by t_train (raw relative change)")
def claim_27(scale: Scale, root: Path, workers) -> list[CheckResult]:
    every = 10
    # The same runs as claim 28 at p = 23 and 31 (the store shares them): the setting.
    options = dict(p=at_scale(scale, tiny=(11, 13), quick=(23, 31), full=(23, 31)),
                   trials=at_scale(scale, tiny=2, quick=8, full=8), eval_every=every,
                   max_steps=budget(scale, tiny=300, quick=3000, full=100_000, eval_every=every))
    s = run_experiment("grokking", root, workers, **options)
    o = s["options"]
    setting = (f"p = {'/'.join(map(str, o['p']))}, the claim 28 runs (quadratic net h = 4p, normalized GD eta "
               f"{o['lr']:g}, budget {o['max_steps']}), eNTK of f_1 on {o['entk_points'] or ENTK_PROBE_POINTS} training pairs, "
               f"{plural(o['trials'], 'seed')}")
    ratios = change_ratios(s["per_p"])
    passed = all(len(r) == o["trials"] and np.median(r) >= MIN_MEDIAN_RATIO and min(r) >= MIN_SEED_RATIO
                 for r in ratios.values())
    measured = "; ".join(
        f"p={p}: median {np.median(r):.1f}, min {min(r):.1f} over {len(r)}/{o['trials']} seeds" if r else
        f"p={p}: no seed reached both t_train and t_test" for p, r in ratios.items())
    scale_free = "; ".join(
        f"p={p}: {median_reached(r['entk_change_scale_free_at_t_train']):.2f} at t_train, "
        f"{median_reached(r['entk_change_scale_free_at_t_test']):.2f} at t_test" for p, r in s["per_p"].items())
    raw = "; ".join(f"p={p}: {median_reached(r['entk_change_at_t_train']):.3g} at t_train, "
                    f"{median_reached(r['entk_change_at_t_test']):.3g} at t_test" for p, r in s["per_p"].items())
    return [
        CheckResult("27", setting, "change(t_test) / change(t_train), raw: " + measured,
                    f"median >= {MIN_MEDIAN_RATIO:g} and every seed >= {MIN_SEED_RATIO:g}, all seeds reached",
                    passed),
        CheckResult("27", setting, "median raw relative change " + raw, None, None),
        CheckResult("27", setting, "median scale-free change ||K_t/||K_t|| - K_0/||K_0|||| " + scale_free, None,
                    None),
    ]
