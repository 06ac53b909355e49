"""Check of claim 30 (Mohamadi et al. Fig 5): the one-layer Transformer groks modular addition, and
its eNTK stays flat until the training set is fit.

The paper's setting (full-batch GD eta 0.25, n = 2 p^(5/3)) is uncalibrated; the check runs the
spec's [cal2] setting that grokked on CPU: p = 23, half the pairs, full-batch AdamW lr 3e-3, weight
decay 1. quick: the smoke run, train accuracy 1.0 and test accuracy < 0.1 at step 300 (the fit is
memorization). full: test accuracy still < 0.1 at step 1,000 and >= 0.9 by step 10,000 ([cal2]:
~0.01 until ~1.5k steps, 0.9 at ~7k). The eNTK's relative change (first logit, the `entk` probe on
a subset of the training pairs) at t_train and at the last evaluation is reported as INFO; claim
27's ratio check is on the quadratic net.

The cross-entropy gradient is the textbook float32 softmax(z) - e_y (PyTorch's and optax's, so the
cal2 run's); with groklab's exact log-domain gradient fewer seeds grok (see the recipe's
`ce_gradient`). Measured here (2026-12, one core): quick PASS in ~23 s (t_train 100-150, test
0.004-0.03 at 300); full PASS in ~3 min (t_train 100-200, test 0.008-0.038 at 1k, >= 0.9 at 3.5k-8.1k
steps; with base seed 1 one seed was at 0.13 at 1k). Under AdamW the eNTK is NOT flat during the
fit: ||K_t - K_0|| / ||K_0|| is 0.5 after 10 steps and 2.7-8.7 at t_train, then 19-79 at 10k
(ratio 2.5-29), the scale-free change ~0.85-1.1 throughout."""
from __future__ import annotations

from pathlib import Path

from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, at_scale, budget, plural, register
from groklab.papers.why_grok.checks.claims_23_28 import SUITE
from groklab.papers.why_grok.recipes.grokking import median_reached

MEMORIZED = 0.1  # test accuracy below this at the early step: the fit has not generalized ([cal2] ~0.01)
GENERALIZED = 0.9  # test accuracy the full run must reach by its budget ([cal2]: at ~7k steps)
ENTK_POINTS = 64  # eNTK probe pairs: K of 64 x 64 on ~200k parameters, a few ms per evaluation


def _values(values: list) -> str:
    return ", ".join("n/a" if v is None else f"{v:.3f}" for v in values)


def _median(values: list) -> str:
    median = median_reached(values)
    return "not reached" if median != median else f"{median:.0f}"  # NaN: no seed reached it


@register(SUITE, "30", "Fig 5: the one-layer Transformer fits first (test < 0.1) and generalizes later")
def claim_30(scale: Scale, root: Path, workers) -> list[CheckResult]:
    every = at_scale(scale, tiny=10, quick=10, full=100)
    # The step at which the fit must already be memorization: the smoke run's end (quick), 1k (full).
    early = at_scale(scale, tiny=60, quick=300, full=1000)
    steps = budget(scale, tiny=60, quick=300, full=10_000, eval_every=every)
    # tiny: a small model on p = 7 (2 s); quick and full: the defaults (d_model 128, 4 heads, d_mlp 512).
    size = at_scale(scale, tiny=dict(d_model=16, heads=2, d_mlp=32), quick={}, full={})
    options = dict(p=at_scale(scale, tiny=7, quick=23, full=23), trials=at_scale(scale, tiny=1, quick=2, full=4),
                   max_steps=steps, eval_every=every, report_steps=(early,), partial_target=GENERALIZED,
                   entk_points=at_scale(scale, tiny=None, quick=ENTK_POINTS, full=ENTK_POINTS), **size)
    s = run_experiment("transformer-grokking", root, workers, **options)
    o = s["options"]
    setting = (f"p = {o['p']}, one-layer Transformer d_model {o['d_model']}, {o['heads']} heads, d_mlp {o['d_mlp']}, "
               f"no layer norm, PyTorch init; train fraction {o['train_fraction']:g} ({s['n_train']} pairs), "
               f"full-batch AdamW lr {s['lr']:g} wd {o['weight_decay']:g} b2 {o['b2']:g}, {o['ce_gradient']} CE "
               f"gradient, {o['max_steps']} steps, eval every {o['eval_every']}, {plural(o['trials'], 'seed')}")
    train_early = s["train_accuracy_at_step"][str(early)]
    test_early = s["test_accuracy_at_step"][str(early)]
    fitted = all(v is not None and v >= 1.0 for v in train_early)
    memorized = all(v is not None and v < MEMORIZED for v in test_early)
    rows = [
        CheckResult("30", setting, f"train accuracy at step {early}: {_values(train_early)} (t_train "
                    f"{s['t_train']})", "1.0 in every seed", fitted),
        CheckResult("30", setting, f"test accuracy at step {early}: {_values(test_early)}",
                    f"< {MEMORIZED:g} in every seed", memorized),
    ]
    if scale != "quick":  # the smoke run is too short to generalize; tiny exercises the same code path
        late = s["t_partial"]
        rows.append(CheckResult("30", setting, f"first step with test accuracy >= {GENERALIZED:g}: {late} "
                                f"(final test accuracy {_values(s['final_test_accuracy'])})",
                                f"<= {o['max_steps']} in every seed", all(t is not None for t in late)))
    rows.append(CheckResult.info("30", setting, (
        f"median t_train {_median(s['t_train'])}, median first step at test >= {GENERALIZED:g} "
        f"{_median(s['t_partial'])}, median t_test (>= {o['target']:g}) {_median(s['t_test'])} "
        f"(over the seeds that reached each)")))
    if o["entk_points"] is not None:  # not at tiny: the eNTK program alone compiles for seconds
        fit, end = s["entk_change_at_t_train"], s["entk_change_at_end"]
        ratios = [None if a is None or b is None or a == 0 else b / a for a, b in zip(fit, end)]
        rows.append(CheckResult.info("30", setting, (
            f"eNTK (first logit, {o['entk_points']} training pairs) relative change ||K_t - K_0|| / ||K_0|| at "
            f"t_train {_values(fit)}, at the last evaluation {_values(end)} (ratio {_values(ratios)}); "
            f"scale-free: {_values(s['entk_change_scale_free_at_t_train'])} -> "
            f"{_values(s['entk_change_scale_free_at_end'])}")))
    return rows
