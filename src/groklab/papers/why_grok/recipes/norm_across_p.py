"""`groklab run norm-across-p`: ||theta||_inf at t_test and the final normalized margin across the
modulus p (Mohamadi et al. Figs 3 and 4; spec claim 28's "the norm does not grow with p").

The grokking recipe's runs (same configs: the store shares them) over more moduli, summarized per p."""
from __future__ import annotations

import numpy as np
from pydantic import Field

from groklab.experiments.base import experiment, figure_dir
from groklab.papers.why_grok.recipes.grokking import MAX_NORM_CV, GrokkingOptions, median_reached, run_grokking
from groklab.store import Store


class NormAcrossPOptions(GrokkingOptions):
    p: tuple[int, ...] = Field((23, 31, 47, 61), min_length=2, description="prime moduli")
    trials: int = Field(4, gt=0, description="seeds per p")


@experiment("norm-across-p", NormAcrossPOptions, "||theta||_inf at t_test across p under normalized GD: does the "
            "norm grow with p? (Mohamadi et al. Figs 3/4; claim 28)")
def run_norm_across_p(options: NormAcrossPOptions, store: Store, workers, quiet) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = run_grokking(options, store, workers, quiet)
    primes = [int(p) for p in summary["per_p"]]
    norms = {p: [v for v in r["linf_at_t_test"] if v is not None] for p, r in summary["per_p"].items()}
    medians = [median_reached(r["linf_at_t_test"]) for r in summary["per_p"].values()]
    fig, ax = plt.subplots(figsize=(5, 4))
    for p, values in zip(primes, norms.values()):
        ax.scatter([p] * len(values), values, color="gray", s=12)
    ax.plot(primes, medians, "o-", label="median")
    ax.set(xlabel="p", ylabel="||theta||_inf at t_test", title="weight norm at generalization", ylim=(0, None))
    ax.legend()
    figure = figure_dir(store) / "norm_across_p.png"
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    cv = summary["linf_cv_across_p"]
    slope = float(np.polyfit(np.log(primes), np.log(medians), 1)[0]) if np.all(np.isfinite(medians)) else None
    return {"linf_at_t_test": norms, "median_linf": dict(zip(map(str, primes), medians)), "linf_cv_across_p": cv,
            "log_log_slope": slope, "claim": f"claim 28: ||theta||_inf at t_test does not grow with p (CV across p < "
            f"{MAX_NORM_CV:g})", "verdict": "PASS" if cv is not None and cv < MAX_NORM_CV else "FAIL",
            "figures": [str(figure), *summary["figures"]], "store": str(store.root)}
