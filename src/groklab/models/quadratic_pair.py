"""The quadratic network of Mohamadi et al. 2024 (eq. 2.1): f(theta; (e_a, e_b)) = V (W [e_a; e_b])^2.

No biases; W in R^{h x 2p}, V in R^{p x h} in the paper, stored here transposed as w (2p, h) and
v (h, C) so that the first layer is a row lookup. The input is a one-hot pair, so W [e_a; e_b] is
W[:, a] + W[:, b]: two gathered rows (a and b are the argmax of each half), never a (2p x h)
matmul with a one-hot matrix. That is exact for one-hot inputs only, which `make_config` enforces
(the task must declare HasOneHotPairs).
"""
from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
from pydantic import Field

from groklab import defaults, registry
from groklab.specs import Spec


class QuadraticPairSpec(Spec):
    name: Literal["wg-quadratic"] = "wg-quadratic"
    width: int | None = Field(None, gt=0, le=2**20,
                              description=f"hidden units h; None = {defaults.WG_WIDTH_PER_CLASS} x the outputs (4p)")
    # He-normal: W ~ N(0, 2/2p), V ~ N(0, 2/h); torch: PyTorch's nn.Linear default U(+-1/sqrt(fan_in)).
    # The paper says He init in its appendix and PyTorch defaults elsewhere: both are offered.
    init: Literal["he-normal", "torch"] = defaults.WG_INIT
    init_scale: float = Field(1.0, gt=0, le=1e6, description="alpha: multiplies W and V at init (WG Figs 1, 2)")


class QuadraticPairNet:
    def __init__(self, spec: QuadraticPairSpec, input_dim: int, output_dim: int):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim  # 1: scalar output; p: logits
        self.vocabulary = input_dim // 2
        self.width = spec.width or defaults.WG_WIDTH_PER_CLASS * output_dim
        self.homogeneity = 3  # V (W x)^2: cubic in (W, V) jointly (HasHomogeneity)

    def init(self, key: jax.Array) -> dict:
        s, h, out = self.spec, self.width, self.output_dim
        k_w, k_v = jax.random.split(key)
        v_shape = (h,) if out == 1 else (h, out)
        if s.init == "he-normal":
            w = jax.random.normal(k_w, (self.input_dim, h)) * (2.0 / self.input_dim) ** 0.5
            v = jax.random.normal(k_v, v_shape) * (2.0 / h) ** 0.5
        else:
            w = jax.random.uniform(k_w, (self.input_dim, h), minval=-1, maxval=1) * self.input_dim**-0.5
            v = jax.random.uniform(k_v, v_shape, minval=-1, maxval=1) * h**-0.5
        return {"w": (s.init_scale * w).astype(jnp.float32), "v": (s.init_scale * v).astype(jnp.float32)}

    def first_layer_weights(self, params: dict) -> jax.Array:
        return params["w"]

    def hidden(self, params: dict, x: jax.Array) -> jax.Array:
        """W [e_a; e_b] as the lookup W[:, a] + W[:, b] (rows of the stored (2p, h) matrix)."""
        p = self.vocabulary
        a = jnp.argmax(x[..., :p], axis=-1)
        b = jnp.argmax(x[..., p:], axis=-1)
        return params["w"][a] + params["w"][p + b]

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        return self.hidden(params, x) ** 2 @ params["v"]


@registry.models.register("wg-quadratic", version="1", spec_class=QuadraticPairSpec,
                          description="V (W (e_a, e_b))^2 on one-hot pairs, by embedding lookup (Mohamadi et al.)")
def build_quadratic_pair(spec: QuadraticPairSpec, input_dim: int, output_dim: int) -> QuadraticPairNet:
    return QuadraticPairNet(spec, input_dim, output_dim)
