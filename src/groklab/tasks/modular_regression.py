"""Modular addition as regression (Mohamadi et al. 2024, section 3).

Input (e_a, e_b, e_c) in R^{3p}, target y = p 1(a + b = c mod p), square loss; the model's scalar
output is the predictor g = e_c^T f(theta; (e_a, e_b)). The population is all p^3 triples; each
trial draws its own n random distinct triples for training (n = round(2 p^2.25) by default, the
paper's App A.1 size, or a fraction or an explicit count) and holds out the rest as the test set.
The zero predictor has test MSE p (a 1/p share of targets equal p), the scale of Thm 3.4's bound.

A pair (a, b) is *unseen* when its one positive triple (a, b, (a + b) mod p) is not in the
training set: the answer for that pair was never shown, so argmax_c f(a, b)_c = a + b there is
generalization (the `unseen-pair-accuracy` probe).
"""
from __future__ import annotations

from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
from pydantic import Field, model_validator

from groklab import registry
from groklab.specs import Spec
from groklab.tasks.enumerated import EnumeratedSplit
from groklab.tasks.modular import is_prime

# Triples are indexed (a p + b) p + c in int32: p^3 < 2^31, so p <= 1289 (the largest prime below
# 2^(31/3)). p = 2 is refused: its 3p = 6 inputs would read as one-hot pairs (models/quadratic_pair.py).
MAX_PRIME = 1289
TRAIN_EXPONENT = 2.25  # n = 2 p^2.25 training triples [WG App A.1]


def default_train_size(p: int) -> int:
    """The paper's training-set size for regression, n = round(2 p^2.25) triples [WG App A.1]."""
    return round(2 * p**TRAIN_EXPONENT)


class ModularRegressionSpec(Spec):
    name: Literal["modular-regression"] = "modular-regression"
    p: int = Field(13, gt=2, le=MAX_PRIME, description="modulus (an odd prime)")
    train_fraction: float | None = Field(None, gt=0, lt=1, description="fraction of the p^3 triples used for "
                                         "training; None = train_size, or round(2 p^2.25) when both are None")
    train_size: int | None = Field(None, gt=0, description="training triples n (exclusive with train_fraction)")
    default_loss: ClassVar[str] = "square"

    @model_validator(mode="after")
    def _check(self) -> "ModularRegressionSpec":
        if not is_prime(self.p):
            raise ValueError(f"p ({self.p}) must be prime")
        if self.train_fraction is not None and self.train_size is not None:
            raise ValueError("train_size and train_fraction are exclusive: set one (or neither, for 2 p^2.25)")
        n = resolved_train_size(self)
        if not 1 <= n < self.p**3:
            raise ValueError(f"train_size ({n}) must leave at least one of the p^3 = {self.p**3} triples for testing")
        return self


def resolved_train_size(spec: ModularRegressionSpec) -> int:
    if spec.train_size is not None:
        return spec.train_size
    if spec.train_fraction is not None:
        return max(1, round(spec.train_fraction * spec.p**3))
    return default_train_size(spec.p)


class ModularRegression(EnumeratedSplit):
    def __init__(self, spec: ModularRegressionSpec):
        self.spec = spec
        p = spec.p
        self.input_dim = 3 * p
        self.triple_vocabulary = p  # inputs are one-hot triples [e_a; e_b; e_c] (HasOneHotTriples)
        self.num_classes = 1  # the scalar g = f(a, b)_c
        self.regression = True  # targets 0 or p: no accuracy, val_loss is the test MSE
        self.train_size = resolved_train_size(spec)
        self.test_size = p**3 - self.train_size
        self.universe = p**3  # the triples (EnumeratedSplit)

    def split(self, index: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        p = self.spec.p
        return index // (p * p), (index // p) % p, index % p

    def _encode(self, index: jax.Array):
        p = self.spec.p
        a, b, c = self.split(index)
        x = jnp.concatenate([jax.nn.one_hot(a, p), jax.nn.one_hot(b, p), jax.nn.one_hot(c, p)], axis=-1)
        return x, jnp.where((a + b) % p == c, float(p), 0.0).astype(jnp.float32)


    def unseen_pairs(self, state: dict) -> jax.Array:
        """(p^2,) bool, pair a p + b: True where the positive triple (a, b, (a + b) mod p) is not
        among the training triples (see the module docstring)."""
        p = self.spec.p
        seen = jnp.zeros(p**3, bool).at[state["train"]].set(True)
        pair = jnp.arange(p * p)
        return ~seen[pair * p + (pair // p + pair % p) % p]


@registry.tasks.register("modular-regression", version="1", spec_class=ModularRegressionSpec,
                         description="p 1(a + b = c mod p) on one-hot triples (a, b, c), square loss (Mohamadi et al. "
                                     "section 3)")
def build_modular_regression(spec: ModularRegressionSpec) -> ModularRegression:
    return ModularRegression(spec)
