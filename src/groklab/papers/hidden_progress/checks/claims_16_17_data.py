"""Checks for Barak et al. 2022's data-setting claims: grokking with finite samples (claim 16,
HPv3 C.5 / Fig 15) and noisy parity (claim 17, HPv3 C.6). Thresholds are the spec's."""
from __future__ import annotations

from pathlib import Path

from groklab.checks.base import CheckResult, Scale, register

SUITE = "hidden-progress"


def _seed_list(values, fmt: str = "g", missing: str = "never") -> str:
    """One entry per seed, joined by '/'; None (not reached within budget, or undefined) prints as
    `missing`. No square brackets: the CLI's table would read '[never]' as a style tag."""
    return "/".join(missing if v is None else format(v, fmt) for v in values)


@register(SUITE, "16", "Fig 4 right / Fig 15: grokking with finite samples (m x weight decay)")
def claim_16(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.catalog import run_experiment
    from groklab.papers.hidden_progress.recipes.finite_sample import NAME

    # Quick: the spec's three check points plus (m=1000, lambda=0), one seed each, evaluated every
    # 500 steps (the spec's calibration evaluates every 100). Full: a denser grid, 5 seeds, every 100.
    if scale == "quick":
        options = dict(samples=(400, 1000), weight_decays=(0.0, 0.01), trials=1, eval_every=500)
    else:
        options = dict(samples=(200, 300, 400, 600, 1000), weight_decays=(0.0, 0.003, 0.01, 0.03),
                       trials=5, eval_every=100)
    s = run_experiment(NAME, root, workers, n=30, k=3, max_steps=60_000, weight_decay_mode="l2", **options)
    seeds = options["trials"]
    setting = (f"(30,3) ReLU r=100 B=32 SGD 0.1 hinge, weight decay in the gradient (l2), 60k-step budget, "
               f"eval every {options['eval_every']}, {seeds} seed{'s' if seeds > 1 else ''} per point "
               f"(paper: (50,3))")
    rule = "in a majority of seeds" if seeds > 1 else "(one seed)"
    grok, no_general, no_gap = s["checked_points"]

    def point_text(point: dict) -> str:
        found = next(p for p in s["points"] if p["samples"] == point["samples"]
                     and p["weight_decay"] == point["weight_decay"])
        return (f"t_train {_seed_list(found['t_train'])}, t_test {_seed_list(found['t_test'])}, "
                f"ratio {_seed_list(found['ratio'], '.1f', '-')}, final test acc "
                f"{_seed_list(found['final_test_accuracy'], '.3f')}: {', '.join(found['outcomes'])}")

    return [
        CheckResult("16", f"{setting}; m=400, lambda=0.01", point_text(grok),
                    f"t_test/t_train >= 5 {rule}", bool(grok["passed"])),
        CheckResult("16", f"{setting}; m=400, lambda=0", point_text(no_general),
                    f"never reaches test accuracy 0.99 {rule}", bool(no_general["passed"])),
        CheckResult("16", f"{setting}; m=1000, lambda=0.01", point_text(no_gap),
                    f"no gap: t_test/t_train <= 2 (groklab's threshold) {rule}", bool(no_gap["passed"])),
    ]


@register(SUITE, "17", "C.6: noisy parity learned on the noiseless distribution")
def claim_17(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.catalog import run_experiment
    from groklab.papers.hidden_progress.recipes.noisy_parity import (
        NAME,
        VERDICT_NOISE,
        VERDICT_SUCCESS_RATE,
    )

    # Quick: (30,3) at B=32 (reduced from the spec's (50,3), several B). Full: the spec's (50,3),
    # three batch sizes, q up to 0.3. q = 0.49 (1/eps^2 = 2500) is GPU scale and is not run.
    if scale == "quick":
        options = dict(n=30, label_noise=(0.0, 0.1, 0.2), batch_sizes=(32,))
    else:
        options = dict(n=50, label_noise=(0.0, 0.1, 0.2, 0.3), batch_sizes=(16, 32, 128))
    seeds = 5
    s = run_experiment(NAME, root, workers, k=3, trials=seeds, max_steps=100_000, target_accuracy=0.95,
                       **options)
    results = []
    for point in s["points"]:
        if point["label_noise"] != VERDICT_NOISE:
            continue
        median = point["median_steps_to_target"]
        results.append(CheckResult(
            "17", f"({options['n']},3) online, q={VERDICT_NOISE}, B={point['batch_size']}, ReLU r=100, SGD 0.1, "
                  f"hinge, {seeds} seeds, 1e5-step budget, accuracy on 8192 fresh noiseless samples",
            f"{point['success_rate']:.0%} of seeds reach 0.95 (steps {_seed_list(point['steps_to_target'], 'd')}, "
            f"median {'never' if median is None else f'{median:.0f}'})",
            f">= {VERDICT_SUCCESS_RATE:.0%} of seeds reach noiseless accuracy 0.95 within 1e5 steps",
            point["success_rate"] >= VERDICT_SUCCESS_RATE))
    return results
