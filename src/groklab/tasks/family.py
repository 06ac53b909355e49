"""A task's hypothesis class as arrays: every target of the family evaluated on one input set.

Hardness measures that compare targets (the variance of the gradient over the class, target
correlations, SQ dimension; Shalev-Shwartz et al. 2017, Takhanov et al. 2023) need the whole
class at once, not one trial's target. Tasks that have a natural family expose
`target_family(...) -> TargetFamily`.

The input set is either the exact input distribution (all 2^n sign vectors, all of Z_p^*) or a
quadrature / Monte-Carlo stand-in for a continuous one, with `exact` and `note` saying which.
Hypotheses are weighted uniformly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TargetFamily:
    name: str  # e.g. "parity(n=10,k=3)", "modmul-standardized(p=97)"
    inputs: np.ndarray  # (N, d) model-ready encodings of the input points, float32
    input_weights: np.ndarray  # (N,) non-negative weights summing to 1 (probabilities or quadrature)
    targets: np.ndarray  # (H, N): h(x) per hypothesis and input; float for scalar outputs, int for classes
    hypotheses: np.ndarray  # (H,) or (H, m): the parameter that names each hypothesis (a, the support S, ...)
    num_classes: int = 1  # 1: scalar targets (square/hinge/... losses); p: class labels (cross-entropy)
    exact: bool = True  # True: inputs and weights are the input distribution itself
    note: str = ""  # how the input set (or the hypothesis sample) was built when not exact/exhaustive
    exhaustive: bool = True  # True: every hypothesis of the class; False: a uniform sample of them

    def __post_init__(self) -> None:
        n_hyp, n_inputs = self.targets.shape
        if self.inputs.shape[0] != n_inputs or self.input_weights.shape != (n_inputs,):
            raise ValueError(f"{self.name}: {n_inputs} target columns but inputs {self.inputs.shape} and "
                             f"weights {self.input_weights.shape}")
        if len(self.hypotheses) != n_hyp:
            raise ValueError(f"{self.name}: {n_hyp} target rows but {len(self.hypotheses)} hypotheses")
        if not np.isclose(self.input_weights.sum(), 1.0, atol=1e-6):
            raise ValueError(f"{self.name}: input weights sum to {self.input_weights.sum()}, not 1")

    @property
    def size(self) -> int:
        return self.targets.shape[0]
