"""Modular multiplication h_a(x) = psi(a x mod p), a, x in Z_p^* (Takhanov et al. 2023, Thm 15).

Two targets psi on the residue z = a x mod p in {1, ..., p-1}:

- "standardized": t(z) = (z - p/2) / sqrt(p^2/12 - p/6), mean 0 and variance 1 exactly over
  Z_p^* (Thm 15). Real-valued: train with the square loss.
- "parity": the bit z mod 2 as a +-1 label, (-1)^(z mod 2) (bit 0 -> +1, as in tasks/bits.py).
  Since p is odd, Z_p^* has (p-1)/2 odd and (p-1)/2 even residues, so these labels also have mean
  0 and variance 1 exactly. Hinge, logistic or square loss.

Because p is odd, (-a) x = p - a x, so t((-a)x) = -t(ax) and parity((-a)x) = 1 - parity(ax): every
class contains h_{-a} = -h_a (tests/test_barren_tasks.py checks both).

Input encodings of x (the paper's is UNRECOVERED): "binary" (the (p-1).bit_length() = ceil(log2 p)
bits of x as +-1), "scalar" (2x/p - 1 in (-1, 1)), "one-hot" (e_x in R^{p-1}; memory grows as p^2).

Per trial: a is drawn uniformly from Z_p^* and Z_p^* is split at random into a training set
(`train_fraction` of it, used full batch or in minibatches drawn with replacement) and a test set
(the rest). With the standardized target the engine's accuracy (sign agreement with a real
label) is meaningless and never reaches its target, so trials run their whole budget; read the
test MSE from `val_loss` (square loss).

`target_family()` gives the whole class {h_a : a in Z_p^*} on all of Z_p^* (exact).
"""
from __future__ import annotations

import math
from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import Field, model_validator

from groklab import registry
from groklab.specs import Spec
from groklab.tasks.family import TargetFamily
from groklab.tasks.modular import is_prime

Target = Literal["standardized", "parity"]
Encoding = Literal["binary", "scalar", "one-hot"]

# a x is computed in int32 (JAX's default integer): (p-1)^2 must stay below 2^31, so p <= 46337.
MAX_PRIME = 46337


def standardized_residue(z, p: int):
    """Thm 15's t(z) = (z - p/2) / sqrt(p^2/12 - p/6): mean 0, variance 1 over z in 1..p-1."""
    return (z - p / 2) / math.sqrt(p * p / 12 - p / 6)


def parity_label(z):
    """(-1)^(z mod 2): the parity bit of the residue as a +-1 label (even -> +1)."""
    return 1 - 2 * (z % 2)


def target_values(z, p: int, target: Target):
    """psi(z) for residues z in 1..p-1, as float32 (jnp for traced arrays, numpy otherwise)."""
    xp = jnp if isinstance(z, jax.Array) else np
    values = standardized_residue(z, p) if target == "standardized" else parity_label(z)
    return xp.asarray(values, dtype=xp.float32)


def binary_digits(p: int) -> int:
    """Bits needed for every x in 1..p-1: ceil(log2 p) for p not a power of two."""
    return (p - 1).bit_length()


def encode(x, p: int, encoding: Encoding):
    """Model-ready float32 encodings of x in 1..p-1, shape (..., input_dim)."""
    xp = jnp if isinstance(x, jax.Array) else np
    if encoding == "binary":
        bits = (x[..., None] >> xp.arange(binary_digits(p))) & 1
        return (1 - 2 * bits).astype(xp.float32)
    if encoding == "scalar":
        return (2 * x[..., None] / p - 1).astype(xp.float32)
    return (x[..., None] == xp.arange(1, p)).astype(xp.float32)  # one-hot over Z_p^* (index x - 1)


def input_dim(p: int, encoding: Encoding) -> int:
    return {"binary": binary_digits(p), "scalar": 1, "one-hot": p - 1}[encoding]


class ModularMultiplicationSpec(Spec):
    name: Literal["modular-multiplication"] = "modular-multiplication"
    p: int = Field(97, ge=3, le=MAX_PRIME, description="odd prime modulus; a, x range over Z_p^* = {1..p-1}")
    target: Target = Field("parity", description="standardized: Thm 15's t(a x mod p), real (square loss); "
                           "parity: (-1)^((a x mod p) mod 2) as +-1 labels")
    encoding: Encoding = Field("binary", description="input encoding of x: binary (+-1 bits), scalar (2x/p - 1), "
                               "one-hot (p - 1 dims)")
    train_fraction: float = Field(0.5, gt=0, lt=1, description="fraction of Z_p^* used for training (rest: test)")
    default_loss: ClassVar[str] = "square"  # valid for both targets (+-1 labels are real numbers too)

    @model_validator(mode="after")
    def _check(self) -> "ModularMultiplicationSpec":
        if not is_prime(self.p):
            raise ValueError(f"p ({self.p}) must be prime")
        return self


class ModularMultiplication:
    def __init__(self, spec: ModularMultiplicationSpec):
        self.spec = spec
        p = spec.p
        self.input_dim = input_dim(p, spec.encoding)
        self.num_classes = 1
        # Real-valued labels: accuracy is meaningless, read val_loss (the engine has no such flag yet).
        self.regression = spec.target == "standardized"
        self.train_size = min(p - 2, max(1, round(spec.train_fraction * (p - 1))))
        self.test_size = p - 1 - self.train_size

    def _examples(self, a: jax.Array, x: jax.Array):
        p = self.spec.p
        return encode(x, p, self.spec.encoding), target_values((a * x) % p, p, self.spec.target)

    def init_state(self, key: jax.Array) -> dict:
        a_key, split_key = jax.random.split(key)
        order = jax.random.permutation(split_key, jnp.arange(1, self.spec.p, dtype=jnp.int32))
        return {"a": jax.random.randint(a_key, (), 1, self.spec.p, dtype=jnp.int32),
                "train": order[: self.train_size], "test": order[self.train_size:]}

    def train_batch(self, state: dict, key: jax.Array, batch_size: int | None):
        if batch_size is None:
            return self._examples(state["a"], state["train"])
        # Minibatches drawn uniformly with replacement from the training set (many passes).
        idx = jax.random.randint(key, (batch_size,), 0, self.train_size)
        return self._examples(state["a"], state["train"][idx])

    @property
    def eval_parts(self) -> tuple[int, ...]:
        return (self.test_size,)

    def eval_batch(self, state: dict, key: jax.Array, part: int = 0):
        return self._examples(state["a"], state["test"])

    def train_set(self, state: dict):
        return self._examples(state["a"], state["train"])

    def target_family_shape(self) -> tuple[int, int, int]:
        return self.spec.p - 1, self.spec.p - 1, 1

    def target_family(self, hypotheses: int | None = None, seed: int = 0) -> TargetFamily:
        """The class {h_a} on all of Z_p^*; see `modular_multiplication_family`."""
        s = self.spec
        return modular_multiplication_family(s.p, s.target, s.encoding, hypotheses, seed)


def modular_multiplication_family(p: int, target: Target = "standardized", encoding: Encoding = "binary",
                                  hypotheses: int | None = None, seed: int = 0) -> TargetFamily:
    """Targets h_a(x) = psi(a x mod p) for every a in Z_p^* (or `hypotheses` of them drawn without
    replacement by `seed`, for large p), on every x in Z_p^* with weight 1/(p-1): exact.
    The (H, p-1) float32 target matrix takes 4 (p-1)^2 bytes for the whole class (400 MB at p = 10^4)."""
    x = np.arange(1, p, dtype=np.int64)
    a = x
    note = "all a in Z_p^*"
    if hypotheses is not None and hypotheses < p - 1:
        a = np.sort(np.random.default_rng(seed).choice(x, size=hypotheses, replace=False))
        note = f"{hypotheses} of the {p - 1} multipliers a, drawn without replacement (seed {seed})"
    targets = target_values((a[:, None] * x[None, :]) % p, p, target)
    return TargetFamily(name=f"modmul-{target}(p={p})", inputs=encode(x, p, encoding),
                        input_weights=np.full(p - 1, 1.0 / (p - 1)), targets=targets, hypotheses=a,
                        num_classes=1, exact=True, note=f"{note}; inputs: all of Z_p^*, uniform",
                        exhaustive=len(a) == p - 1)


@registry.tasks.register("modular-multiplication", version="1", spec_class=ModularMultiplicationSpec,
                         description="psi(a x mod p): standardized residue (square loss) or parity bit (+-1)")
def build_modular_multiplication(spec: ModularMultiplicationSpec) -> ModularMultiplication:
    return ModularMultiplication(spec)
