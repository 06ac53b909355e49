"""Single neurons f(x) = u * sigma(s * (w . x + b))  (Barak et al. architectures vii-xiv).

Written for one trial. The four activations are reconstructed from the paper's stated design
(spec 1.2; the exact formulas are UNRECOVERED). With w* = 1_S and j = #{i in S : x_i = -1},
w*.x = k - 2j and chi_S(x) = (-1)^j, so an activation that passes through the knots
(k - 2j, (-1)^j), j = 0..k, represents the k-parity on S:

- "zigzag" (vii/xi): piecewise-linear interpolation of the knots, constant outside [-k, k] (assumption).
- "polynomial" (viii/xii): the degree-k Lagrange interpolant through the same knots, evaluated in
  product form so that it is exact at the knots.
- "inf-zigzag" (ix/xiii): triangle wave of period 4, 1 at z = 0 and -1 at z = 2 (mod 4); represents
  every k-parity with b = -k (mod 4).
- "sinusoidal" (x/xiv): cos(pi z / 2); represents every k-parity with b = -k.

`trainable_output=False` fixes u = 1 (architectures xi-xiv, in that order, is an assumption); u is
then not a parameter at all, so no gradient reaches it. `input_scale` s multiplies the
pre-activation of every activation (HPv3 Fig 12 uses sin(w.x / sqrt(n)), i.e. s = 1/sqrt(n)).

The brief for these models is binary +-1 tasks (output_dim 1). For output_dim m > 1 (the component
contract builds every model that way) the same neuron feeds m readouts u_c, f_c = u_c sigma(z), and
with u fixed every output equals sigma(z).
"""
from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import Field

from groklab import registry
from groklab.models.init import Scheme, init_bias, init_weight
from groklab.specs import MAX_DEGREE, Spec

Activation = Literal["zigzag", "polynomial", "inf-zigzag", "sinusoidal"]


def knots(k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k + 1 knots (k - 2j, (-1)^j), j = 0..k."""
    j = np.arange(k + 1)
    return (k - 2 * j).astype(np.float32), ((-1.0) ** j).astype(np.float32)


def zigzag(z: jax.Array, k: int) -> jax.Array:
    """Piecewise-linear through (k - 2j, (-1)^j), constant outside [-k, k]."""
    t = jnp.clip((k - z) / 2.0, 0.0, float(k))  # t = j at the knot k - 2j
    j0 = jnp.clip(jnp.floor(t), 0.0, float(k - 1))
    frac = t - j0
    sign = 1.0 - 2.0 * jnp.mod(j0, 2.0)  # (-1)^j0
    return sign * (1.0 - 2.0 * frac)


def oscillating_polynomial(z: jax.Array, k: int) -> jax.Array:
    """The degree-k Lagrange interpolant through the knots, in product form (exact at the knots)."""
    xs, ys = knots(k)
    total = jnp.zeros_like(z)
    for j in range(k + 1):
        term = jnp.full_like(z, ys[j])
        for m in range(k + 1):
            if m != j:
                term = term * ((z - xs[m]) / (xs[j] - xs[m]))
        total = total + term
    return total


def inf_zigzag(z: jax.Array) -> jax.Array:
    """Triangle wave of period 4: 1 at z = 0, 0 at z = +-1, -1 at z = 2 (mod 4)."""
    return jnp.abs(jnp.mod(z, 4.0) - 2.0) - 1.0


def sinusoidal(z: jax.Array) -> jax.Array:
    return jnp.cos(jnp.pi * z / 2.0)


def activate(name: str, z: jax.Array, k: int) -> jax.Array:
    if name == "zigzag":
        return zigzag(z, k)
    if name == "polynomial":
        return oscillating_polynomial(z, k)
    if name == "inf-zigzag":
        return inf_zigzag(z)
    if name == "sinusoidal":
        return sinusoidal(z)
    raise ValueError(f"unknown activation {name!r}")


class SingleNeuronSpec(Spec):
    name: Literal["single-neuron"] = "single-neuron"
    activation: Activation = "sinusoidal"
    degree: int = Field(3, ge=1, le=MAX_DEGREE, description="k: the knots (k - 2j, (-1)^j) of zigzag and polynomial")
    trainable_output: bool = Field(True, description="False fixes u = 1 (architectures xi-xiv)")
    bias: bool = Field(True, description="trainable bias b (needed to hit b = -k for inf-zigzag/sinusoidal)")
    bias_init: Literal["torch", "zero"] = "torch"
    input_scale: float = Field(1.0, gt=0, description="s in sigma(s * (w.x + b))")
    init: Scheme = "uniform"
    init_scale: float = Field(1.0, gt=0, description="multiplies the initial w and u")


class SingleNeuron:
    def __init__(self, spec: SingleNeuronSpec, input_dim: int, output_dim: int):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim

    def activation(self, z: jax.Array) -> jax.Array:
        return activate(self.spec.activation, z, self.spec.degree)

    def init(self, key: jax.Array) -> dict:
        s, n, out = self.spec, self.input_dim, self.output_dim
        kw, kb, ku = jax.random.split(key, 3)
        params = {"w": init_weight(kw, (n,), n, 1, s.init, s.init_scale)}
        if s.bias:
            params["b"] = init_bias(kb, (), n, s.bias_init)
        if s.trainable_output:
            params["u"] = init_weight(ku, () if out == 1 else (out,), 1, out, s.init, s.init_scale)
        return params

    def first_layer_weights(self, params: dict) -> jax.Array:
        """w as an (n, 1) matrix, for hidden-progress probes."""
        return params["w"][:, None]

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        z = x @ params["w"]
        if "b" in params:
            z = z + params["b"]
        h = self.activation(self.spec.input_scale * z)  # (B,)
        if self.output_dim > 1:
            h = h[:, None]
        if "u" in params:
            return h * params["u"]
        return h if self.output_dim == 1 else jnp.broadcast_to(h, (h.shape[0], self.output_dim))


@registry.models.register("single-neuron", version="1", spec_class=SingleNeuronSpec,
                          description="u * sigma(w.x + b): k-zigzag, oscillating polynomial, inf-zigzag, "
                                      "sinusoidal; u trainable or fixed at 1")
def build_single_neuron(spec: SingleNeuronSpec, input_dim: int, output_dim: int) -> SingleNeuron:
    if output_dim < 1:
        raise ValueError(f"single-neuron needs output_dim >= 1 (got {output_dim})")
    return SingleNeuron(spec, input_dim, output_dim)
