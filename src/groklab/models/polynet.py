"""PolyNet f(x) = prod_{i<=k} (w_i . x (+ b_i)), the parity machine and the disjoint-PolyNet
(Barak et al. architecture xv, HP section 4.2).

Written for one trial.

- "polynet": k linear units multiplied together. Whether the paper's PolyNet has biases is
  UNRECOVERED; `bias` defaults to False (w_i = e_{s_i} then computes chi_S exactly).
- "parity-machine": sign(prod_i w_i . x). sign has zero gradient almost everywhere, so this is
  registered as the same network as "polynet" (no biases): training sees prod_i w_i . x, and
  accuracy already scores sign(f) (groklab.losses.accuracy), so the evaluated classifier is exactly
  sign(prod w_i . x). It is a separate name so that sweeps can label the theory object; it is
  identical to "polynet" with bias=False at train time.
- "disjoint-polynet": f = prod_i <w_i, x_{P_i}> with w_i in R^{n/k} and the contiguous blocks
  P_i = {(i-1)n/k + 1, ..., i n/k} (matching the disjoint parity task). Needs n % k == 0. Init
  Unif{+-1} ("sign", the SGD theorem) by default, or all-ones ("ones", the gradient-flow theorem).
  `first_layer_weights` embeds the blocks into a block-diagonal (n, k) matrix.

The brief for these models is binary +-1 tasks (output_dim 1). For output_dim m > 1 (the component
contract builds every model that way) the model holds m independent products, one per output;
`first_layer_weights` then stacks their factors into (n, k * m).
"""
from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
from pydantic import Field

from groklab import registry
from groklab.errors import GroklabInputError
from groklab.models.init import Scheme, init_bias, init_weight
from groklab.specs import Spec


class PolyNetSpec(Spec):
    name: Literal["polynet"] = "polynet"
    degree: int = Field(3, ge=1, description="k: the number of linear factors")
    bias: bool = Field(False, description="b_i in each factor (UNRECOVERED whether the paper has them)")
    bias_init: Literal["torch", "zero"] = "torch"
    init: Scheme = "uniform"
    init_scale: float = Field(1.0, gt=0, description="multiplies every initial weight")


class ParityMachineSpec(Spec):
    name: Literal["parity-machine"] = "parity-machine"
    degree: int = Field(3, ge=1, description="k: the number of linear factors")
    init: Scheme = "uniform"
    init_scale: float = Field(1.0, gt=0, description="multiplies every initial weight")


class DisjointPolyNetSpec(Spec):
    name: Literal["disjoint-polynet"] = "disjoint-polynet"
    degree: int = Field(3, ge=1, description="k: the number of blocks (n % k == 0)")
    init: Literal["sign", "ones", "uniform", "gaussian", "bernoulli"] = "sign"
    init_scale: float = Field(1.0, gt=0, description="multiplies every initial weight")
    bias: bool = Field(False, description="b_i in each factor (not in the paper's definition)")
    bias_init: Literal["torch", "zero"] = "torch"


def _check_output(name: str, output_dim: int) -> None:
    if output_dim < 1:
        raise ValueError(f"{name} needs output_dim >= 1 (got {output_dim})")


class PolyNet:
    """Shared by "polynet" and "parity-machine"; the builders say whether the factors have biases
    (the parity machine's spec has no bias field: it never has them)."""

    def __init__(self, spec: PolyNetSpec | ParityMachineSpec, input_dim: int, output_dim: int, bias: bool,
                 bias_init: Literal["torch", "zero"] = "zero"):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.degree = spec.degree
        self.bias = bias
        self.bias_init = bias_init

    def init(self, key: jax.Array) -> dict:
        s, n, k, m = self.spec, self.input_dim, self.degree, self.output_dim
        kw, kb = jax.random.split(key)
        params = {"w": init_weight(kw, (n, k * m), n, k, s.init, s.init_scale)}
        if self.bias:
            params["b"] = init_bias(kb, (k * m,), n, self.bias_init)
        return params

    def first_layer_weights(self, params: dict) -> jax.Array:
        """The (n, k) factor weights (n, k * m for m outputs)."""
        return params["w"]

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        h = x @ params["w"]
        if "b" in params:
            h = h + params["b"]
        out = jnp.prod(h.reshape(h.shape[0], self.output_dim, self.degree), axis=-1)  # (B, m)
        return out[:, 0] if self.output_dim == 1 else out


class DisjointPolyNet:
    def __init__(self, spec: DisjointPolyNetSpec, input_dim: int, output_dim: int):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.block = input_dim // spec.degree  # n' = n / k

    def init(self, key: jax.Array) -> dict:
        s, k, nb, m = self.spec, self.spec.degree, self.block, self.output_dim
        kw, kb = jax.random.split(key)
        shape = (m, k, nb)
        if s.init == "ones":
            w = jnp.full(shape, s.init_scale, jnp.float32)
        else:
            w = init_weight(kw, shape, nb, 1, s.init, s.init_scale)
        params = {"w": w}
        if s.bias:
            params["b"] = init_bias(kb, (m, k), nb, s.bias_init)
        return params

    def first_layer_weights(self, params: dict) -> jax.Array:
        """Block-diagonal (n, k) embedding: column i holds w_i on the rows of P_i ((n, k * m) for m outputs)."""
        w = params["w"]  # (m, k, n')
        m, k, nb = w.shape
        eye = jnp.eye(k, dtype=w.dtype)
        blocks = w[:, :, :, None] * eye[None, :, None, :]  # (m, k, n', k): [o, i, j, i'] = w[o, i, j] 1(i = i')
        return jnp.transpose(blocks.reshape(m, k * nb, k), (1, 0, 2)).reshape(k * nb, m * k)

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        k, nb = self.spec.degree, self.block
        xb = x.reshape(x.shape[0], k, nb)
        h = jnp.einsum("bij,oij->boi", xb, params["w"])  # (B, m, k)
        if "b" in params:
            h = h + params["b"]
        out = jnp.prod(h, axis=-1)
        return out[:, 0] if self.output_dim == 1 else out


@registry.models.register("polynet", version="1", spec_class=PolyNetSpec,
                          description="PolyNet prod_i (w_i.x (+ b_i)), k factors")
def build_polynet(spec: PolyNetSpec, input_dim: int, output_dim: int) -> PolyNet:
    _check_output("polynet", output_dim)
    return PolyNet(spec, input_dim, output_dim, spec.bias, spec.bias_init)


@registry.models.register("parity-machine", version="1", spec_class=ParityMachineSpec,
                          description="parity machine sign(prod_i w_i.x): trains prod_i w_i.x, scored by sign")
def build_parity_machine(spec: ParityMachineSpec, input_dim: int, output_dim: int) -> PolyNet:
    _check_output("parity-machine", output_dim)
    return PolyNet(spec, input_dim, output_dim, bias=False)


@registry.models.register("disjoint-polynet", version="1", spec_class=DisjointPolyNetSpec,
                          description="disjoint-PolyNet prod_i <w_i, x_{P_i}>, contiguous blocks of n/k")
def build_disjoint_polynet(spec: DisjointPolyNetSpec, input_dim: int, output_dim: int) -> DisjointPolyNet:
    _check_output("disjoint-polynet", output_dim)
    if input_dim % spec.degree:  # a GroklabInputError: make_config builds the model before any work
        raise GroklabInputError(f"model.degree: disjoint-polynet needs the input dimension divisible by degree k "
                                f"(got n = {input_dim}, k = {spec.degree})")
    return DisjointPolyNet(spec, input_dim, output_dim)
