"""Two-layer MLP f(x) = sum_j u_j sigma(w_j . x + b_j) + c  (Barak et al. architectures i-vi, *i, *ii).

Written for one trial. The first layer is stored as (n, r) so that `x @ w` is a plain row-major
matmul, which XLA:CPU runs about 25% faster under vmap than the transposed layout; `dense` does
the same for its weight gradient.
"""
from __future__ import annotations

from typing import Literal

import jax
from pydantic import Field

from groklab import registry
from groklab.models.init import Scheme, init_bias, init_weight
from groklab.models.layers import dense
from groklab.specs import MAX_DEGREE, Spec


class MLPSpec(Spec):
    name: Literal["mlp"] = "mlp"
    width: int = Field(100, gt=0, description="hidden units r")
    activation: Literal["relu", "power"] = "relu"
    degree: int = Field(2, ge=1, le=MAX_DEGREE, description="k of the z^k activation (activation='power' only)")
    init: Scheme = "uniform"
    init_scale: float = Field(1.0, gt=0, description="multiplies every initial weight")
    bias: bool = Field(True, description="hidden and output biases (needed for odd k)")
    bias_init: Literal["torch", "zero"] = "torch"


class MLP:
    def __init__(self, spec: MLPSpec, input_dim: int, output_dim: int):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim  # 1: scalar output

    def activation(self, z: jax.Array) -> jax.Array:
        if self.spec.activation == "relu":
            return jax.nn.relu(z)
        return z**self.spec.degree

    def init(self, key: jax.Array) -> dict:
        s, n, r = self.spec, self.input_dim, self.spec.width
        out = self.output_dim
        k1, k2, k3, k4 = jax.random.split(key, 4)
        readout_shape = (r,) if out == 1 else (r, out)
        params = {
            "hidden": {"w": init_weight(k1, (n, r), n, r, s.init, s.init_scale)},
            "readout": {"w": init_weight(k3, readout_shape, r, out, s.init, s.init_scale)},
        }
        if s.bias:
            params["hidden"]["b"] = init_bias(k2, (r,), n, s.bias_init)
            params["readout"]["b"] = init_bias(k4, () if out == 1 else (out,), r, s.bias_init)
        return params

    def first_layer_weights(self, params: dict) -> jax.Array:
        """The (n, r) input weights, the matrix hidden-progress probes measure."""
        return params["hidden"]["w"]

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        h = dense(x, params["hidden"]["w"])
        if "b" in params["hidden"]:
            h = h + params["hidden"]["b"]
        out = self.activation(h) @ params["readout"]["w"]
        if "b" in params["readout"]:
            out = out + params["readout"]["b"]
        return out


@registry.models.register("mlp", version="1", spec_class=MLPSpec,
                          description="2-layer MLP, ReLU or z^k, any width, 4 init schemes with a scale")
def build_mlp(spec: MLPSpec, input_dim: int, output_dim: int) -> MLP:
    return MLP(spec, input_dim, output_dim)
