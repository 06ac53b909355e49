"""The one-layer Transformer of Mohamadi et al. 2024 Fig 5 (after Power et al. and Nanda et al.):
(a + b) mod p read from the token sequence [a, b, =].

    tokens     [a, b, =] over a vocabulary of p + 1 symbols ('=' is symbol p)
    x_i        = E[token_i] + P_i                       (learned token and position embeddings)
    attention  z = concat_h softmax(q_h k_h^T / sqrt(d_head)) v_h, then W_O     (causal, multi-head)
    residual   r = x_last + z;   r = r + W_out relu(W_in r + b_in) + b_out      (ReLU MLP)
    logits     = W_U r + b_U at the last position ('='), p classes

With `layer_norm` on, the blocks are pre-norm (GPT-2's order): attention and MLP read LN(x), and a
final LN precedes the unembedding. The attention is causal, as in Nanda et al.; with a single layer
read at the last position the mask changes nothing (that query sees every key), so keys and values
are computed at all three positions but the query, MLP and unembedding only at the last: the same
function (tested against a full causal forward), less work.

Initialization is PyTorch's default for the layers this is written with (the paper: "default
PyTorch initialization, migrated to JAX"): nn.Embedding ~ N(0, 1) for the token and position
tables; nn.Linear (weights and biases, bias=True as by default) ~ U(+-1/sqrt(fan_in)), which is
what kaiming_uniform_(a = sqrt(5)) gives; nn.LayerNorm gain 1, bias 0. Every randomly drawn
parameter is multiplied by `init_scale` (alpha); the layer-norm gains and biases are not drawn and
keep 1 and 0. (Nanda et al.'s own code differs: no attention or unembedding biases, and
N(0, 1/d_model)-style init; the sizes are theirs, the layers and init PyTorch's defaults.)

The inputs are the modular-addition task's one-hot pairs [e_a; e_b]; a and b are their argmaxes,
read as embedding lookups (exact for one-hot inputs only, which `make_config` enforces: the task
must declare HasOneHotPairs). Matrices are stored (fan_in, fan_out) so that layers are x @ W.
"""
from __future__ import annotations

import math
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import Field, model_validator

from groklab import defaults, registry
from groklab.specs import Spec

SEQUENCE = 3  # [a, b, =]
LAYER_NORM_EPS = 1e-5  # nn.LayerNorm's default eps


class WgTransformerSpec(Spec):
    name: Literal["wg-transformer"] = "wg-transformer"
    d_model: int = Field(defaults.WG_TRANSFORMER_D_MODEL, gt=0, le=2**14, description="residual-stream width")
    heads: int = Field(defaults.WG_TRANSFORMER_HEADS, gt=0, le=2**10, description="attention heads; each has d_model / heads dims")
    d_mlp: int = Field(defaults.WG_TRANSFORMER_D_MLP, gt=0, le=2**16, description="hidden units of the ReLU MLP")
    layer_norm: bool = Field(False, description="pre-norm LayerNorms before attention, MLP and unembedding "
                                                "(off in Nanda et al.'s model)")
    init_scale: float = Field(1.0, gt=0, le=1e6, description="alpha: multiplies every randomly initialized parameter")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> "WgTransformerSpec":
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        return self


def _linear_shapes(name: str, fan_in: int, fan_out: int | None) -> list:
    """nn.Linear(fan_in, fan_out): weight and bias, both U(+-1/sqrt(fan_in)); stored (in, out).
    fan_out None: a single output, weight (fan_in,) and a scalar bias."""
    bound = fan_in**-0.5
    if fan_out is None:
        return [((name, "w"), (fan_in,), bound), ((name, "b"), (), bound)]
    return [((name, "w"), (fan_in, fan_out), bound), ((name, "b"), (fan_out,), bound)]


def layer_norm(x: jax.Array, params: dict) -> jax.Array:
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean((x - mean) ** 2, axis=-1, keepdims=True)  # biased variance, as nn.LayerNorm
    return (x - mean) / jnp.sqrt(var + LAYER_NORM_EPS) * params["gain"] + params["bias"]


class WgTransformer:
    def __init__(self, spec: WgTransformerSpec, input_dim: int, output_dim: int):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim  # p logits (1: a scalar output)
        self.pair_vocabulary = input_dim // 2  # p symbols per half of the one-hot pair
        self.vocabulary = self.pair_vocabulary + 1  # and '=' (symbol p)
        self.d_head = spec.d_model // spec.heads

    def layout(self) -> list:
        """(path, shape, bound) of every drawn parameter: bound None for N(0, 1) (nn.Embedding), else
        U(+-bound) (nn.Linear)."""
        d, mlp = self.spec.d_model, self.spec.d_mlp
        out = [(("embed", "token"), (self.vocabulary, d), None), (("embed", "position"), (SEQUENCE, d), None)]
        for name in ("query", "key", "value", "out"):
            out += [(("attention", *path), shape, bound) for path, shape, bound in _linear_shapes(name, d, d)]
        out += [(("mlp", *path), shape, bound) for path, shape, bound in
                _linear_shapes("in", d, mlp) + _linear_shapes("out", mlp, d)]
        return out + _linear_shapes("unembed", d, None if self.output_dim == 1 else self.output_dim)

    def init(self, key: jax.Array) -> dict:
        # One uniform draw for every parameter, cut into the layers: XLA:CPU compiles each separate
        # random draw slowly (~0.6 s each, vmapped over lanes; 19 draws took 13 s). The normal
        # tables are sqrt(2) erfinv(u), u ~ U(-1, 1), which is how jax.random.normal draws them.
        layout = self.layout()
        sizes = [math.prod(shape) for _, shape, _ in layout]
        low = np.nextafter(np.float32(-1), np.float32(0))  # erfinv(-1) = -inf
        u = jax.random.uniform(key, (sum(sizes),), jnp.float32, minval=low, maxval=1.0)
        params: dict = {}
        for (path, shape, bound), start, size in zip(layout, np.cumsum([0, *sizes[:-1]]), sizes):
            block = u[start:start + size].reshape(shape)
            value = np.sqrt(2.0) * jax.lax.erf_inv(block) if bound is None else bound * block
            node = params
            for name in path[:-1]:
                node = node.setdefault(name, {})
            node[path[-1]] = (self.spec.init_scale * value).astype(jnp.float32)
        if self.spec.layer_norm:
            d = self.spec.d_model
            params["norms"] = {name: {"gain": jnp.ones((d,), jnp.float32), "bias": jnp.zeros((d,), jnp.float32)}
                               for name in ("attention", "mlp", "final")}
        return params

    def tokens(self, x: jax.Array) -> jax.Array:
        """(B, 2p) one-hot pairs -> (B, 3) token ids [a, b, =]."""
        p = self.pair_vocabulary
        a = jnp.argmax(x[..., :p], axis=-1)
        b = jnp.argmax(x[..., p:], axis=-1)
        return jnp.stack([a, b, jnp.full_like(a, p)], axis=-1)

    def _norm(self, params: dict, name: str, x: jax.Array) -> jax.Array:
        return layer_norm(x, params["norms"][name]) if self.spec.layer_norm else x

    def attention_weights(self, params: dict, x: jax.Array) -> jax.Array:
        """(B, heads, 3): how much the last position ('=') attends to a, b and '=' in each head."""
        return self._attend(params, self._residual(params, x))[1]

    def _residual(self, params: dict, x: jax.Array) -> jax.Array:
        return params["embed"]["token"][self.tokens(x)] + params["embed"]["position"]  # (B, 3, d)

    def _attend(self, params: dict, resid: jax.Array) -> tuple[jax.Array, jax.Array]:
        att, heads, d_head = params["attention"], self.spec.heads, self.d_head
        h = self._norm(params, "attention", resid)
        batch = h.shape[0]
        q = (h[:, -1] @ att["query"]["w"] + att["query"]["b"]).reshape(batch, heads, d_head)
        k = (h @ att["key"]["w"] + att["key"]["b"]).reshape(batch, SEQUENCE, heads, d_head)
        v = (h @ att["value"]["w"] + att["value"]["b"]).reshape(batch, SEQUENCE, heads, d_head)
        weights = jax.nn.softmax(jnp.einsum("bhc,bjhc->bhj", q, k) / jnp.sqrt(jnp.float32(d_head)), axis=-1)
        mixed = jnp.einsum("bhj,bjhc->bhc", weights, v).reshape(batch, heads * d_head)
        return mixed @ att["out"]["w"] + att["out"]["b"], weights

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        resid = self._residual(params, x)
        r = resid[:, -1] + self._attend(params, resid)[0]
        mlp = params["mlp"]
        hidden = jax.nn.relu(self._norm(params, "mlp", r) @ mlp["in"]["w"] + mlp["in"]["b"])
        r = r + hidden @ mlp["out"]["w"] + mlp["out"]["b"]
        return self._norm(params, "final", r) @ params["unembed"]["w"] + params["unembed"]["b"]


@registry.models.register("wg-transformer", version="1", spec_class=WgTransformerSpec,
                          description="one-layer Transformer on the tokens a, b, '=' (token + position embeddings, "
                                      "multi-head attention, ReLU MLP; Mohamadi et al. Fig 5 / Nanda et al.)")
def build_wg_transformer(spec: WgTransformerSpec, input_dim: int, output_dim: int) -> WgTransformer:
    return WgTransformer(spec, input_dim, output_dim)
