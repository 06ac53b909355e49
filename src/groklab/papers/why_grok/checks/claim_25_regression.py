"""Check of claim 25 (Mohamadi et al. Fig 3): regression grokking of modular addition.

Per the spec's [cal] and [cal2] notes the paper's setting (GD lr 1, lambda_inf 1e-4, n = 2p^2.25)
did not grok at CPU scale in two independent runs; the check therefore tests its no-grokking
invariant (train MSE < 1e-3 early, test MSE > p/2 there) and reports the rest as measured, and
demonstrates grokking with the one setting that grokked on CPU: AdamW (lr 1e-3, wd 1, b2 0.98),
n = 0.5p^3, p = 13 (unseen-pair accuracy < 0.45 at the fit step and >= 0.75 later, the issue's
Done-when). The paper's lr 1 is also run as written on groklab's (f - y)^2 (see the recipe's
docstring) and reported as INFO.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from groklab.catalog import run_experiment
from groklab.checks.base import CheckResult, Scale, at_scale, budget, plural, register
from groklab.papers.why_grok.checks.claims_23_28 import SUITE
from groklab.papers.why_grok.recipes.regression_grokking import GENERALIZED_AT, MEMORIZED_BELOW, MIN_GROKKED_FRACTION

FIT_MSE = 1e-3  # the spec's "train MSE < 1e-3 early"
EARLY = 2000  # [cal]: "train MSE -> 0 within 2k steps" (p = 13)
TEST_MSE_FLOOR = 0.5  # x p: the spec's "test MSE > 0.5p before any grokking" (Thm 3.4's bound)


def _values(values, fmt: str = ".2f") -> str:
    return "/".join("n/a" if v is None or not np.isfinite(v) else format(v, fmt) for v in values)


def _steps(values) -> str:
    return "/".join("-" if v is None else str(v) for v in values)


def _paper_rows(scale: Scale, root: Path, workers) -> list[CheckResult]:
    every = at_scale(scale, tiny=50, quick=250, full=250)
    # quick: 20k steps, the low end of [cal2]'s runs (about 15 s for 4 seeds at p = 13); full: within the paper's 50k-200k.
    options = dict(setting="paper", p=at_scale(scale, tiny=(5,), quick=(13,), full=(13, 23)),
                   trials=at_scale(scale, tiny=2, quick=4, full=4), eval_every=every, fit_mse=FIT_MSE,
                   max_steps=budget(scale, tiny=200, quick=20_000, full=100_000, eval_every=every))
    s = run_experiment("regression-grokking", root, workers, **options)
    o = s["options"]
    setting = (f"paper setting: p = {'/'.join(map(str, o['p']))}, h = 4p He-normal, n = 2p^2.25 triples, full-batch GD "
               f"lr 0.5 on (f - y)^2 (= lr 1 on (f - y)^2 / 2), lambda_inf 1e-4, {o['max_steps']} steps, eval every "
               f"{o['eval_every']}, {plural(o['trials'], 'seed')}")
    early = min(EARLY, o["max_steps"])
    rows, ok = [], True
    for p, r in s["per_p"].items():
        fits = [f is not None and f <= early for f in r["fit_step"]]
        high = [m is not None and m > TEST_MSE_FLOOR * int(p) for m in r["test_mse_at_fit"]]
        ok = ok and all(fits) and all(high)
        rows.append(f"p={p}: fit step (train MSE < {FIT_MSE:g}) {_steps(r['fit_step'])}, test MSE there "
                    f"{_values(r['test_mse_at_fit'])}")
    invariant = CheckResult("25", setting, "; ".join(rows),
                            f"every seed: train MSE < {FIT_MSE:g} by step {early} and test MSE > {TEST_MSE_FLOOR:g}p there",
                            ok)
    measured = "; ".join(
        f"p={p}: final test MSE {_values(r['final_test_mse'])} (zero predictor: {p}), final unseen-pair accuracy "
        f"{_values(r['final_unseen_accuracy'])}, ||theta||_inf {_values(r['initial_linf'])} -> "
        f"{_values(r['final_linf'])}; {sum(r['grokked'])}/{o['trials']} grokked" for p, r in s["per_p"].items())
    return [invariant, CheckResult.info("25", setting, measured + " (the paper's Fig 3 generalization: not "
                                        "reproduced at this scale, as in the spec's [cal]/[cal2])")]


def _literal_lr_row(scale: Scale, root: Path, workers) -> CheckResult:
    every = at_scale(scale, tiny=50, quick=100, full=100)
    options = dict(setting="paper", lr=1.0, p=(13,), trials=4, eval_every=every, fit_mse=FIT_MSE,
                   max_steps=budget(scale, tiny=every, quick=2000, full=2000, eval_every=every))
    s = run_experiment("regression-grokking", root, workers, **options)
    o = s["options"]
    setting = (f"paper setting with lr 1 on (f - y)^2: p = {'/'.join(map(str, o['p']))}, {o['max_steps']} steps, "
               f"{plural(o['trials'], 'seed')}")
    return CheckResult.info("25", setting, "; ".join(
        f"p={p}: {sum(r['diverged'])}/{o['trials']} diverged, fit step (train MSE < {FIT_MSE:g}) "
        f"{_steps(r['fit_step'])}" for p, r in s["per_p"].items()))


def _adamw_rows(scale: Scale, root: Path, workers) -> list[CheckResult]:
    every = at_scale(scale, tiny=50, quick=250, full=250)
    options = dict(setting="adamw", p=at_scale(scale, tiny=(5,), quick=(13,), full=(13,)),
                   trials=at_scale(scale, tiny=2, quick=4, full=8), eval_every=every,
                   max_steps=budget(scale, tiny=300, quick=40_000, full=100_000, eval_every=every))
    s = run_experiment("regression-grokking", root, workers, **options)
    o = s["options"]
    setting = (f"AdamW lr 1e-3 wd 1 b2 0.98: p = {'/'.join(map(str, o['p']))}, h = 4p He-normal, n = 0.5p^3 triples, "
               f"{o['max_steps']} steps, eval every {o['eval_every']}, {plural(o['trials'], 'seed')}")
    per_p = s["per_p"]
    measured = "; ".join(
        f"p={p}: fit step (train MSE < {o['fit_mse']:g}) {_steps(r['fit_step'])}, unseen-pair accuracy there "
        f"{_values(r['unseen_accuracy_at_fit'])}, first step >= {GENERALIZED_AT:g} after it {_steps(r['t_unseen_075'])}"
        f" ({sum(r['grokked'])}/{o['trials']} grok)" for p, r in per_p.items())
    later = "; ".join(
        f"p={p}: first step at unseen-pair accuracy >= {o['target']:g} {_steps(r['t_test'])}, final "
        f"{_values(r['final_unseen_accuracy'], '.3f')}; test MSE {_values(r['test_mse_at_fit'])} at the fit -> "
        f"{_values(r['final_test_mse'])} final; ||theta||_inf final {_values(r['final_linf'])}" for p, r in per_p.items())
    return [CheckResult("25", setting, measured,
                        f">= {MIN_GROKKED_FRACTION:.0%} of seeds: unseen-pair accuracy < {MEMORIZED_BELOW:g} at the fit "
                        f"step and >= {GENERALIZED_AT:g} later",
                        all(f >= MIN_GROKKED_FRACTION for f in s["grokked_fraction"].values())),
            CheckResult.info("25", setting, later)]


@register(SUITE, "25", "Fig 3: regression; paper setting as a no-grokking invariant, AdamW n = 0.5p^3 groks")
def claim_25(scale: Scale, root: Path, workers) -> list[CheckResult]:
    # The literal-lr run is INFO only: left out at the test scales, where each config's compile dominates.
    literal = [] if scale in ("tiny", "starved") else [_literal_lr_row(scale, root, workers)]
    return [*_paper_rows(scale, root, workers), *literal, *_adamw_rows(scale, root, workers)]
