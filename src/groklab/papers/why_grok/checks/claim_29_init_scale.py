"""Check of claim 29 (Mohamadi et al. Fig 1 middle): a smaller init scale alpha reduces the
train/test gap in classification. Per the spec's [cal2]: under normalized GD eta = 10 the first
step erases the init scale, so the check runs eta = 1 (p = 47) and asks for the 'smaller gap' part
as test accuracy at t_train non-decreasing as alpha falls (less memorization); t_test is reported."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, at_scale, budget, plural, register
from groklab.papers.why_grok.checks.claims_23_28 import SUITE
from groklab.papers.why_grok.recipes.grokking import median_reached

SCALES = (1.0, 0.3, 0.1, 0.03)  # alpha, from the paper's 1 down to 0.03 ([cal2])
LR = 1.0  # normalized GD step: eta = 10 erases alpha in one step ([cal2])


@register(SUITE, "29", "Fig 1 middle: a smaller init scale alpha means less memorization at the fit")
def claim_29(scale: Scale, root: Path, workers) -> list[CheckResult]:
    every = at_scale(scale, tiny=10, quick=20, full=20)
    options = dict(p=(at_scale(scale, tiny=11, quick=47, full=47),), lr=LR,
                   trials=at_scale(scale, tiny=2, quick=3, full=8), eval_every=every,
                   max_steps=budget(scale, tiny=200, quick=12_000, full=100_000, eval_every=every))
    scales = at_scale(scale, tiny=SCALES[::2], quick=SCALES, full=SCALES)  # tiny: 2 compiles, not 4
    runs = {alpha: run_experiment("grokking", root, workers, init_scale=alpha, **options) for alpha in scales}
    (p,) = options["p"]
    per_alpha = {alpha: s["per_p"][str(p)] for alpha, s in runs.items()}
    at_fit = [median_reached(r["test_accuracy_at_t_train"]) for r in per_alpha.values()]
    setting = (f"p = {p}, quadratic net h = 4p He-normal x alpha = {'/'.join(f'{a:g}' for a in scales)}, n = 2p^(5/3), "
               f"normalized GD eta {LR:g}, budget {options['max_steps']} steps, eval every {every}, "
               f"{plural(options['trials'], 'seed')} per alpha")
    fit_text = ", ".join(f"alpha {a:g}: t_train {median_reached(r['t_train']):.0f}, test {v:.3f}"
                         for (a, r), v in zip(per_alpha.items(), at_fit))
    reached = ", ".join(f"alpha {a:g}: t_test {median_reached(r['t_test']):.0f} "
                        f"({sum(t is not None for t in r['t_test'])}/{options['trials']} reach 0.99), final test "
                        f"{median_reached(r['final_test_accuracy']):.3f}" for a, r in per_alpha.items())
    monotone = all(np.isfinite(at_fit)) and all(b >= a for a, b in zip(at_fit, at_fit[1:]))
    return [
        CheckResult("29", setting, f"median test accuracy at t_train: {fit_text}",
                    "non-decreasing as alpha falls", monotone),
        CheckResult.info("29", setting, f"medians {reached}"),
    ]
