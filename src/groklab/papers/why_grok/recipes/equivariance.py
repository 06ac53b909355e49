"""`groklab run equivariance`: training commutes with relabelling the symbols (Mohamadi et al.
Thm 3.3 / Prop 4.2 / Cor C.7; spec claim 31), for full-batch GD and Adam, beside a mismatched
relabelling as the control that must not match."""
from __future__ import annotations

from pydantic import Field, field_validator

from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.store import Store

FLOAT_TOLERANCE = 1e-4  # float32 summation order; a mismatched relabelling gives a gap of order 1
LEARNING_RATES = {"gd": 1.0, "adam": 1e-2}  # GD at WG's regression lr 1; Adam at a usual 1e-2


class EquivarianceOptions(ExperimentOptions):
    p: int = Field(23, gt=2, le=211, description="prime modulus")
    steps: int = Field(1000, gt=0, le=100_000, description="full-batch steps of each run")
    optimizers: tuple[str, ...] = Field(("gd", "adam"), min_length=1, description="gd and/or adam")
    train_fraction: float = Field(0.5, gt=0, lt=1, description="fraction of the p^2 pairs trained on")
    regression_p: int = Field(13, gt=2, le=47, description="prime modulus of the regression run (0.3 p^3 triples)")

    @field_validator("optimizers")
    @classmethod
    def _known(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(names) - set(LEARNING_RATES))
        if unknown:
            raise ValueError(f"unknown optimizer {unknown[0]!r} (known: {', '.join(LEARNING_RATES)})")
        return names

    @field_validator("p", "regression_p")
    @classmethod
    def _prime(cls, p: int) -> int:
        from groklab.tasks.modular import is_prime

        if not is_prime(p):
            raise ValueError(f"{p} is not prime")
        return p


@experiment("equivariance", EquivarianceOptions, "training on relabelled (a+b) mod p is the relabelled training "
            "run, for GD and Adam, with a mismatched control (claim 31)")
def run_equivariance(options: EquivarianceOptions, store: Store, workers, quiet) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from groklab.papers.why_grok.equivariance import equivariance_gap, regression_equivariance_gap
    gaps = {}
    for name in options.optimizers:
        lr = LEARNING_RATES[name]
        gaps[name] = {"lr": lr, **{key: equivariance_gap(options.p, name, options.steps, lr, options.train_fraction,
                                                         seed=options.seed, control=control)
                                   for key, control in (("gap", False), ("control_gap", True))}}
        gaps[f"{name}-regression"] = {"lr": lr, **{
            key: regression_equivariance_gap(options.regression_p, name, options.steps, lr, seed=options.seed,
                                             control=control)
            for key, control in (("gap", False), ("control_gap", True))}}
    fig, ax = plt.subplots(figsize=(5, 3.5))
    names = list(gaps)
    ax.bar([f"{n}\nmatched" for n in names] + [f"{n}\ncontrol" for n in names],
           [max(gaps[n][key], 1e-12) for key in ("gap", "control_gap") for n in names])  # 0: exact, drawn at 1e-12
    ax.axhline(FLOAT_TOLERANCE, linestyle="--", color="gray")
    ax.set(yscale="log", ylabel="max |f' - f| / max |f|", title=f"relabelled training, p = {options.p}")
    figure = figure_dir(store) / "equivariance.png"
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    passed = all(g["gap"] <= FLOAT_TOLERANCE < g["control_gap"] for g in gaps.values())
    return {"gaps": gaps, "claim": f"claim 31: relabelled training matches to <= {FLOAT_TOLERANCE:g} (float32), "
            "the mismatched control does not", "verdict": "PASS" if passed else "FAIL", "figures": [str(figure)],
            "store": str(store.root)}
