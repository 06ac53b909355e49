"""Deep MLP with L weight layers, and its greedy layer-wise stages (Barak et al. HPv3 appendix C.7).

    h_0 = x,  h_i = sigma(h_{i-1} W_i + b_i)  (i = 1 .. L-1),  f(x) = h_{L-1} . u + c

`depth` is L, the number of weight matrices. With sigma(z) = z^2 the output is a polynomial of
degree 2^(L-1) in x, so a k-sparse parity is representable only for k <= 2^(L-1) (claim 18: no
convergence for k > 2^(L-1)).

Greedy layer-wise training (Belilovsky et al. 2019) trains one layer at a time: stage l trains
W_l together with an auxiliary linear head on h_l, with layers 1..l-1 frozen as the earlier
stages left them; the last stage (l = L-1) uses the real readout u as its head, so its network is
the full one. `greedy_stage = l` builds the stage-l network: hidden layers 1..l (the frozen ones
behind jax.lax.stop_gradient) and a head. Frozen layers keep their initial values here, which is
exactly what the earlier stages leave behind under population gradient descent when their
population gradient is identically zero: with z^2 a stage-j network is a polynomial of degree
2^j, so for 2^j < k every parameter's gradient E[l'(f, y) df/dtheta] is a correlation of chi_S
with a polynomial of degree < k while the hinge loss is linear (|f| < 1), i.e. exactly 0
(tests/test_layerwise.py checks it over all 2^n inputs). Every stage draws each layer from the
same key as the end-to-end network, so stage L-1 starts from the end-to-end initialization and
differs only in which layers move.

Written for one trial. Frozen layers are still parameters (so stored, probed and vmapped like any
other); decoupled weight decay would shrink them, so train greedy stages without it.
"""
from __future__ import annotations

from typing import Literal

import jax
from pydantic import Field, model_validator

from groklab import registry
from groklab.models.init import Scheme, init_bias, init_weight
from groklab.models.layers import dense
from groklab.specs import Spec

MAX_DEPTH = 64  # layers are a Python loop, traced one by one: deeper nets take seconds to build


class DeepMLPSpec(Spec):
    name: Literal["deep-mlp"] = "deep-mlp"
    depth: int = Field(3, ge=2, le=MAX_DEPTH, description="L: weight matrices (L-1 hidden layers); z^2 gives degree 2^(L-1)")
    width: int = Field(64, gt=0, description="units in every hidden layer")
    activation: Literal["square", "relu"] = "square"
    init: Scheme = "uniform"
    init_scale: float = Field(1.0, gt=0, description="multiplies every initial weight")
    bias: bool = Field(False, description="hidden and output biases")
    bias_init: Literal["torch", "zero"] = "torch"
    greedy_stage: int | None = Field(None, ge=1, description="None: end-to-end. l: stage l of greedy layer-wise "
                                     "training (layers 1..l, the first l-1 frozen at init, a linear head on h_l)")

    @model_validator(mode="after")
    def _check(self) -> "DeepMLPSpec":
        if self.greedy_stage is not None and self.greedy_stage > self.depth - 1:
            raise ValueError(f"greedy_stage ({self.greedy_stage}) must be at most depth - 1 ({self.depth - 1}): "
                             "stage L-1 already trains the readout")
        return self


class DeepMLP:
    def __init__(self, spec: DeepMLPSpec, input_dim: int, output_dim: int):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim  # 1: scalar output
        self.hidden_layers = spec.depth - 1 if spec.greedy_stage is None else spec.greedy_stage
        self.frozen_layers = 0 if spec.greedy_stage is None else spec.greedy_stage - 1

    def activation(self, z: jax.Array) -> jax.Array:
        return z * z if self.spec.activation == "square" else jax.nn.relu(z)

    def init(self, key: jax.Array) -> dict:
        s, r, out = self.spec, self.spec.width, self.output_dim
        # Two keys per weight layer of the full network, by position, so a greedy stage draws
        # exactly the layers (and the readout) the end-to-end network draws.
        keys = jax.random.split(key, 2 * s.depth)
        hidden = []
        for i in range(self.hidden_layers):
            fan_in = self.input_dim if i == 0 else r
            layer = {"w": init_weight(keys[2 * i], (fan_in, r), fan_in, r, s.init, s.init_scale)}
            if s.bias:
                layer["b"] = init_bias(keys[2 * i + 1], (r,), fan_in, s.bias_init)
            hidden.append(layer)
        readout_shape = (r,) if out == 1 else (r, out)
        readout = {"w": init_weight(keys[-2], readout_shape, r, out, s.init, s.init_scale)}
        if s.bias:
            readout["b"] = init_bias(keys[-1], () if out == 1 else (out,), r, s.bias_init)
        return {"hidden": hidden, "readout": readout}

    def first_layer_weights(self, params: dict) -> jax.Array:
        """The (n, width) input weights, the matrix hidden-progress probes measure."""
        return params["hidden"][0]["w"]

    def features(self, params: dict, x: jax.Array) -> jax.Array:
        """h_l, the last hidden layer's activations (what the head reads)."""
        h = x
        for i, layer in enumerate(params["hidden"]):
            if i < self.frozen_layers:  # an earlier greedy stage's layer: no gradient reaches it
                layer = jax.lax.stop_gradient(layer)
            z = dense(h, layer["w"])
            if "b" in layer:
                z = z + layer["b"]
            h = self.activation(z)
        return h

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        out = self.features(params, x) @ params["readout"]["w"]
        if "b" in params["readout"]:
            out = out + params["readout"]["b"]
        return out


@registry.models.register("deep-mlp", version="1", spec_class=DeepMLPSpec,
                          description="L-layer MLP, z^2 or ReLU, one width; greedy layer-wise stages (HPv3 C.7)")
def build_deep_mlp(spec: DeepMLPSpec, input_dim: int, output_dim: int) -> DeepMLP:
    return DeepMLP(spec, input_dim, output_dim)
