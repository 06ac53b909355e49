"""`groklab run construction`: the explicit Fourier network of Mohamadi et al. Prop 3.8 / App F,
loaded into the registered `wg-quadratic` model and measured with the same code as a trained one
(outputs, ||theta||_inf, the normalized margin of the `norms-margin` probe; spec claim 23)."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from pydantic import Field, field_validator

from groklab.config import build_components, make_config
from groklab.experiments.base import ExperimentOptions, experiment, figure_dir
from groklab.store import Store

EXACT = 1e-4  # float32: outputs of size 4p from sums of 8p products, relative to 4p


class ConstructionOptions(ExperimentOptions):
    p: tuple[int, ...] = Field((5, 7, 11, 23), min_length=1, description="odd prime moduli")
    copies: int = Field(1, gt=0, le=64, description="h = 8p x copies neurons (copies scaled by copies^(-1/3))")

    @field_validator("p")
    @classmethod
    def _odd_primes(cls, primes: tuple[int, ...]) -> tuple[int, ...]:
        from groklab.tasks.modular import is_prime

        for p in primes:
            if p == 2 or not is_prime(p):
                raise ValueError(f"{p} is not an odd prime (the construction needs odd p)")
        return primes


def measure(p: int, copies: int) -> dict:
    from groklab.papers.why_grok.construction import all_pairs, fourier_construction
    from groklab.probes.norms_margin import norms_margin

    config = make_config({"name": "modular-addition", "p": p}, {"name": "wg-quadratic", "width": 8 * p * copies})
    task, model = build_components(config)
    params = {k: jnp.asarray(v, jnp.float32) for k, v in fourier_construction(p, 8 * p * copies).items()}
    x, labels = all_pairs(p)
    logits = np.asarray(model.apply(params, jnp.asarray(x, jnp.float32)), np.float64)
    everything = {"train": jnp.arange(p * p), "test": jnp.arange(0)}  # the probe reads every pair as "train"
    probe = {k: float(v) for k, v in norms_margin(model, task, params, params, everything).items()}
    return {"max_output_error": float(np.max(np.abs(logits - 4 * p * np.eye(p)[labels]))) / (4 * p),
            "linf_norm": probe["linf_norm"], "normalized_margin": probe["normalized_margin"],
            "accuracy": float(np.mean(np.argmax(logits, axis=1) == labels)), "logits": logits}


@experiment("construction", ConstructionOptions, "the Fourier construction of Prop 3.8 as a wg-quadratic model: "
            "outputs 4p 1(a+b=q), ||theta||_inf <= 1, normalized margin 4p (claim 23)")
def run_construction(options: ConstructionOptions, store: Store, workers, quiet) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_p = {str(p): measure(p, options.copies) for p in options.p}
    last = options.p[-1]
    fig, ax = plt.subplots(figsize=(5, 4))
    image = ax.imshow(per_p[str(last)].pop("logits")[: last * 3], aspect="auto", cmap="viridis")
    ax.set(xlabel="output q", ylabel="pair index a p + b (first 3p)", title=f"construction outputs, p = {last}")
    fig.colorbar(image)
    figure = figure_dir(store) / "construction.png"
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    for r in per_p.values():
        r.pop("logits", None)
    passed = all(r["max_output_error"] <= EXACT and r["linf_norm"] <= 1 + EXACT
                 and abs(r["normalized_margin"] / (4 * int(p)) - 1) <= EXACT for p, r in per_p.items())
    return {"per_p": per_p, "claim": "claim 23: outputs 4p 1(a+b=q) exactly (float32 here), ||theta||_inf <= 1, "
            "normalized margin 4p", "verdict": "PASS" if passed else "FAIL", "figures": [str(figure)],
            "store": str(store.root)}
