"""Modular addition as p-way classification (Mohamadi et al. 2024, section 2).

Input (e_a, e_b) in R^{2p}, label (a + b) mod p. Each trial draws its own random train/test split
of the p^2 pairs; the training set is used full-batch or in minibatches.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import jax
import jax.numpy as jnp
from pydantic import Field, model_serializer, model_validator

from groklab import registry
from groklab.specs import Spec
from groklab.tasks.enumerated import EnumeratedSplit

# Pairs are indexed a * p + b in int32 (JAX's default integer): p^2 < 2^31, so p <= 46337 (the
# largest prime below sqrt(2^31)). The bound also keeps is_prime's trial division instant.
MAX_PRIME = 46337


def is_prime(p: int) -> bool:
    return p >= 2 and all(p % d for d in range(2, int(p**0.5) + 1))


class ModularAdditionSpec(Spec):
    name: Literal["modular-addition"] = "modular-addition"
    p: int = Field(23, gt=1, le=MAX_PRIME, description="modulus (prime)")
    train_fraction: float = Field(0.5, gt=0, lt=1, description="fraction of the p^2 pairs used for training")
    # Mohamadi et al. train on n = 2 p^(5/3) pairs (App A): 'paper'. None: train_fraction decides.
    train_size: Annotated[int, Field(gt=0)] | Literal["paper"] | None = Field(
        None, description="training pairs: a count, 'paper' = round(2 p^(5/3)), or None (train_fraction)")
    default_loss: ClassVar[str] = "cross-entropy"

    @model_validator(mode="after")
    def _check(self) -> "ModularAdditionSpec":
        if not is_prime(self.p):
            raise ValueError(f"p ({self.p}) must be prime")
        if self.train_size is not None and "train_fraction" in self.model_fields_set:
            raise ValueError("train_size and train_fraction were both given: give one of them")
        if self.train_size is not None and pairs_for_training(self) >= self.p**2:
            raise ValueError(f"train_size ({pairs_for_training(self)}) leaves no test pairs of the {self.p**2}")
        return self

    @model_serializer(mode="wrap")
    def _hash_fields(self, handler):
        data = handler(self)
        if self.train_size is None:  # absent unless set, so configs written before it keep their hash
            data.pop("train_size", None)
        else:  # the fraction does not apply (and would be refused beside it when read back)
            data.pop("train_fraction", None)
        return data


def pairs_for_training(spec: ModularAdditionSpec) -> int:
    if spec.train_size == "paper":
        return round(2 * spec.p ** (5 / 3))
    if spec.train_size is not None:
        return spec.train_size
    return max(1, round(spec.train_fraction * spec.p * spec.p))


class ModularAddition(EnumeratedSplit):
    def __init__(self, spec: ModularAdditionSpec):
        self.spec = spec
        p = spec.p
        self.input_dim = 2 * p
        self.pair_vocabulary = p  # inputs are one-hot pairs [e_a; e_b] (HasOneHotPairs)
        self.num_classes = p
        self.regression = False  # class labels, scored by accuracy
        self.train_size = pairs_for_training(spec)
        self.test_size = p * p - self.train_size
        self.universe = p * p  # the pairs a * p + b (EnumeratedSplit)

    def _encode(self, pair_index: jax.Array):
        p = self.spec.p
        a, b = pair_index // p, pair_index % p
        x = jnp.concatenate([jax.nn.one_hot(a, p), jax.nn.one_hot(b, p)], axis=-1)
        return x, (a + b) % p


    def target_family_shape(self) -> tuple[int, int, int]:
        return 64, self.spec.p**2, self.spec.p

    def target_family(self, hypotheses: int = 64, seed: int = 0):
        """Relabelled sums h_{s,t}(a, b) = (s(a) + t(b)) mod p for permutations s, t of Z_p: the
        class a network that solves modular addition must tell apart once the symbols carry no
        meaning (the m = 2 summand class of Mohamadi et al. D.5, as p-way labels). Hypothesis 0 is
        a + b itself; the others are a uniform sample. Inputs: all p^2 one-hot pairs, exactly."""
        import numpy as np

        from groklab.tasks.family import TargetFamily

        p = self.spec.p
        rng = np.random.default_rng(seed)
        perms = np.stack([np.stack([np.arange(p), np.arange(p)])] +
                         [np.stack([rng.permutation(p), rng.permutation(p)]) for _ in range(hypotheses - 1)])
        a, b = np.divmod(np.arange(p * p), p)
        targets = (perms[:, 0, a] + perms[:, 1, b]) % p  # (H, p^2)
        x = np.concatenate([np.eye(p, dtype=np.float32)[a], np.eye(p, dtype=np.float32)[b]], axis=1)
        return TargetFamily(f"modular-addition(p={p})", x, np.full(p * p, 1.0 / p**2), targets.astype(np.int32),
                            perms, num_classes=p, exhaustive=False,
                            note=f"{hypotheses} relabellings (s, t) sampled uniformly, the first the identity")


@registry.tasks.register("modular-addition", version="1", spec_class=ModularAdditionSpec,
                         description="(a + b) mod p as p-way classification on one-hot pairs")
def build_modular_addition(spec: ModularAdditionSpec) -> ModularAddition:
    return ModularAddition(spec)
