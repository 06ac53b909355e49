"""The quadratic network of Mohamadi et al. 2024 (eq. 2.1): f(theta; (e_a, e_b)) = V (W [e_a; e_b])^2.

No biases; W in R^{h x 2p}, V in R^{p x h} in the paper, stored here transposed as w (2p, h) and
v (h, C) so that the first layer is a row lookup. The input is a one-hot pair, so W [e_a; e_b] is
W[:, a] + W[:, b]: two gathered rows (a and b are the argmax of each half), never a (2p x h)
matmul with a one-hot matrix. That is exact for one-hot inputs only, which `make_config` enforces
(the task must declare HasOneHotPairs or HasOneHotTriples).

Two readings, fixed by the builder's dimensions:
- pairs (input 2p, output C): the C outputs f(a, b) (classification logits);
- triples (input 3p, output 1; p odd, so 3p is odd while a pair's 2p is even): the regression
  predictor g = e_c^T f(theta; (e_a, e_b)) of WG section 3 on inputs [e_a; e_b; e_c]. W and V keep
  the pair network's shapes (2p, h) and (h, p) and its init, and entry c of f(a, b) is read by
  gathering column c of V, never by a product with a one-hot matrix (HasPairOutputs).
"""
from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
from pydantic import Field

from groklab import defaults, registry
from groklab.models.quadratic_pair_ntk import quadratic_ntk, symbols
from groklab.specs import Spec


class QuadraticPairSpec(Spec):
    name: Literal["wg-quadratic"] = "wg-quadratic"
    width: int | None = Field(None, gt=0, le=2**20,
                              description=f"hidden units h; None = {defaults.WG_WIDTH_PER_CLASS} x the outputs (4p; "
                                          f"on triples {defaults.WG_WIDTH_PER_CLASS} x the vocabulary p)")
    # He-normal: W ~ N(0, 2/2p), V ~ N(0, 2/h); torch: PyTorch's nn.Linear default U(+-1/sqrt(fan_in)).
    # The paper says He init in its appendix and PyTorch defaults elsewhere: both are offered.
    init: Literal["he-normal", "torch"] = defaults.WG_INIT
    init_scale: float = Field(1.0, gt=0, le=1e6, description="alpha: multiplies W and V at init (WG Figs 1, 2)")


def reads_triples(input_dim: int, output_dim: int) -> bool:
    """Whether the builder's dimensions mean one-hot triples [e_a; e_b; e_c] with a scalar output
    (input 3p, p an odd prime: odd) rather than pairs [e_a; e_b] (input 2p: even)."""
    return output_dim == 1 and input_dim % 3 == 0 and input_dim % 2 == 1


class QuadraticPairNet:
    def __init__(self, spec: QuadraticPairSpec, input_dim: int, output_dim: int):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim  # 1: scalar output; p: logits
        self.triples = reads_triples(input_dim, output_dim)
        self.vocabulary = input_dim // 3 if self.triples else input_dim // 2
        # f's own shape: W (2p, h) and C = p outputs on triples (g reads one of them), else the builder's.
        self.lookup_dim = 2 * self.vocabulary if self.triples else input_dim
        self.outputs = self.vocabulary if self.triples else output_dim
        self.width = spec.width or defaults.WG_WIDTH_PER_CLASS * self.outputs
        self.homogeneity = 3  # V (W x)^2: cubic in (W, V) jointly (HasHomogeneity)

    def init(self, key: jax.Array) -> dict:
        s, h, out, fan_in = self.spec, self.width, self.outputs, self.lookup_dim
        k_w, k_v = jax.random.split(key)
        v_shape = (h,) if out == 1 else (h, out)
        if s.init == "he-normal":
            w = jax.random.normal(k_w, (fan_in, h)) * (2.0 / fan_in) ** 0.5
            v = jax.random.normal(k_v, v_shape) * (2.0 / h) ** 0.5
        else:
            w = jax.random.uniform(k_w, (fan_in, h), minval=-1, maxval=1) * fan_in**-0.5
            v = jax.random.uniform(k_v, v_shape, minval=-1, maxval=1) * h**-0.5
        return {"w": (s.init_scale * w).astype(jnp.float32), "v": (s.init_scale * v).astype(jnp.float32)}

    def first_layer_weights(self, params: dict) -> jax.Array:
        return params["w"]

    def lookup_rows(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The rows a and p + b of the stored W that the one-hot pair [e_a; e_b] selects."""
        p = self.vocabulary
        a = jnp.argmax(x[..., :p], axis=-1)
        b = jnp.argmax(x[..., p:2 * p] if self.triples else x[..., p:], axis=-1)
        return a, p + b

    def hidden(self, params: dict, x: jax.Array) -> jax.Array:
        """W [e_a; e_b] as the lookup W[:, a] + W[:, b] (rows of the stored (2p, h) matrix)."""
        a, b = self.lookup_rows(x)
        return params["w"][a] + params["w"][b]

    def squared_hidden(self, params: dict, x: jax.Array) -> jax.Array:
        """(W [e_a; e_b])^2, the same values as hidden(...) ** 2, under jax.checkpoint so the backward
        pass looks the rows up again instead of reusing the forward's. Shared, the two (n, h) gathers
        are written out and XLA:CPU squares their sum in a separate elementwise kernel (its tiled
        emitter, slow when h is not a multiple of 16: ~95 us of a ~590 us full-batch step at p = 47,
        h = 188); unshared, each lookup fuses into the kernel that uses it. Bit-identical results,
        ~14% faster at p = 47 (the grokking benchmark); forward-mode autodiff still works."""
        a, b = self.lookup_rows(x)  # outside the checkpoint: the argmax is not recomputed
        return jax.checkpoint(lambda w: (w[a] + w[b]) ** 2)(params["w"])

    def pair_outputs(self, params: dict, a: jax.Array, b: jax.Array) -> jax.Array:
        """f(theta; (e_a, e_b)), all p entries, for symbol indices a and b (HasPairOutputs)."""
        return (params["w"][a] + params["w"][self.vocabulary + b]) ** 2 @ params["v"]

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        if not self.triples:
            return self.squared_hidden(params, x) @ params["v"]
        c = jnp.argmax(x[..., 2 * self.vocabulary:], axis=-1)
        # e_c^T V (...)^2: column c of V gathered per example, (batch, h), then a dot product over h.
        return jnp.sum(self.hidden(params, x) ** 2 * params["v"].T[c], axis=-1)

    def exact_ntk(self, params: dict, x: jax.Array, readout: jax.Array | None) -> jax.Array:
        """The eNTK in closed form, O(n^2 h) (HasExactNtk; see quadratic_pair_ntk)."""
        slots = symbols(x, self.vocabulary, 3 if self.triples else 2)
        c = slots[2] if self.triples else None
        return quadratic_ntk(self.hidden(params, x), slots[0], slots[1], params["v"], readout, c)


@registry.models.register("wg-quadratic", version="1", spec_class=QuadraticPairSpec,
                          description="V (W (e_a, e_b))^2 on one-hot pairs (or its entry c on triples), by embedding "
                                      "lookup (Mohamadi et al.)")
def build_quadratic_pair(spec: QuadraticPairSpec, input_dim: int, output_dim: int) -> QuadraticPairNet:
    return QuadraticPairNet(spec, input_dim, output_dim)
