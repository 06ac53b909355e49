"""Check of claim 31 (Mohamadi et al. Thm 3.3 / Prop 4.2 / Cor C.7): training on relabelled data is
the relabelled training run, for GD and for Adam, in classification (a, b and the label relabelled)
and in regression (a, b and c of the triples relabelled)."""
from __future__ import annotations

from pathlib import Path

from groklab.checks.base import CheckResult, Scale, at_scale, register
from groklab.papers.why_grok.checks.claims_23_28 import SUITE
from groklab.papers.why_grok.recipes.equivariance import FLOAT_TOLERANCE
from groklab.papers.why_grok.recipes.equivariance import LEARNING_RATES as OPTIMIZERS


@register(SUITE, "31", "Thm 3.3 / Prop 4.2: training commutes with relabelling a, b and c", trains=False)
def claim_31(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.papers.why_grok.equivariance import equivariance_gap, regression_equivariance_gap

    p = at_scale(scale, tiny=7, quick=23, full=23)
    p_regression = at_scale(scale, tiny=5, quick=13, full=13)
    steps = at_scale(scale, tiny=100, quick=1000, full=5000)
    rows = []
    for name, lr in OPTIMIZERS.items():
        gap = equivariance_gap(p, name, steps, lr)
        control = equivariance_gap(p, name, steps, lr, control=True)
        setting = (f"(a+b) mod {p}, quadratic net h = 4p He-normal, full-batch {name.upper()} lr {lr:g}, half the "
                   f"pairs, {steps} steps, random s1, s2, s3 (seed 0)")
        rows.append(CheckResult("31", setting, f"max relative gap {gap:.1e} (a mismatched relabelling: {control:.2f})",
                                f"<= {FLOAT_TOLERANCE:g} (float32 round-off)", gap <= FLOAT_TOLERANCE))
    for name, lr in OPTIMIZERS.items():
        gap = regression_equivariance_gap(p_regression, name, steps, lr)
        control = regression_equivariance_gap(p_regression, name, steps, lr, control=True)
        setting = (f"regression p = {p_regression}: triples -> p 1(a+b=c), square loss, h = 4p He-normal, full-batch "
                   f"{name.upper()} lr {lr:g}, 0.3 p^3 triples, {steps} steps, random s1, s2, s3 (seed 0)")
        rows.append(CheckResult("31", setting, f"max relative gap over all p^3 triples {gap:.1e} (a mismatched "
                                f"relabelling: {control:.2f})", f"<= {FLOAT_TOLERANCE:g} (float32 round-off)",
                                gap <= FLOAT_TOLERANCE))
    return rows
