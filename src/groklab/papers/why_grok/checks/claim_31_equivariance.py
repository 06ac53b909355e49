"""Check of claim 31 (Mohamadi et al. Thm 3.3 / Prop 4.2 / Cor C.7): training on relabelled data is
the relabelled training run, for GD and for Adam."""
from __future__ import annotations

from pathlib import Path

from groklab.checks.base import CheckResult, Scale, at_scale, register
from groklab.papers.why_grok.checks.claims_23_28 import SUITE

FLOAT_TOLERANCE = 1e-4  # float32 summation order over the training set; a mismatched run is O(1)
OPTIMIZERS = {"gd": 1.0, "adam": 1e-2}  # learning rates: GD at WG's regression lr 1; Adam at a usual 1e-2


@register(SUITE, "31", "Thm 3.3 / Prop 4.2: training commutes with relabelling a, b and c", trains=False)
def claim_31(scale: Scale, root: Path, workers) -> list[CheckResult]:
    from groklab.papers.why_grok.equivariance import equivariance_gap

    p = at_scale(scale, tiny=7, quick=23, full=23)
    steps = at_scale(scale, tiny=100, quick=1000, full=5000)
    rows = []
    for name, lr in OPTIMIZERS.items():
        gap = equivariance_gap(p, name, steps, lr)
        control = equivariance_gap(p, name, steps, lr, control=True)
        setting = (f"(a+b) mod {p}, quadratic net h = 4p He-normal, full-batch {name.upper()} lr {lr:g}, half the "
                   f"pairs, {steps} steps, random s1, s2, s3 (seed 0)")
        rows.append(CheckResult("31", setting, f"max relative gap {gap:.1e} (a mismatched relabelling: {control:.2f})",
                                f"<= {FLOAT_TOLERANCE:g} (float32 round-off)", gap <= FLOAT_TOLERANCE))
    return rows
