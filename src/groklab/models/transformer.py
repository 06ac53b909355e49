"""The simplified parity Transformer (Barak et al. setting (*iii); HPv3 D.1.3, p50-8 and p52-1).

Known from the paper: d_emb = 1024, d_attn = 8 per head, H = 128 heads, Xavier-uniform init on
the matrices, trained with Adam. The tokenization, pooling and readout are UNRECOVERED (spec 1.2);
this module assumes the simplest reading of "a simplified specialization of the Transformer to
this sequence classification problem":

    token_i  = E[x_i] + P_i                       (an embedding of the bit value + a learned position)
    head h   : a_hij = softmax_j(q_hi . k_hj / sqrt(d_attn)),  q = token W_Q^h, k = token W_K^h, v = token W_V^h
    z_i      = concat_h(sum_j a_hij v_hj) W_O + b_O   (one softmax multi-head attention layer)
    f(x)     = u . mean_i z_i + c                 (mean-pool, then a linear head to a scalar)

No residual connection, MLP block or layer norm (none is named by the paper's description).
E[x_i] is the lookup of a two-row table for the bits +1 and -1, written as the interpolation
((1 + x)/2) E[+1] + ((1 - x)/2) E[-1]: the same lookup on +-1 inputs, and still defined for the
0/1 one-hot inputs of other tasks. Every matrix (the two embedding tables included) is
Xavier-uniform (or another `init` scheme); biases start at zero, as in PyTorch's
nn.MultiheadAttention. Mean-pooling commutes with the output projection, so the pooled attention
output is projected once instead of once per token (the same function, n times fewer FLOPs).

Written for one trial. `first_layer_weights` is the (n, d_emb) positional embedding: the only
parameters tied to individual input coordinates, so the hidden-progress probe's per-coordinate
movement (relevant vs irrelevant positions) is meaningful for it.
"""
from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
from pydantic import Field

from groklab import registry
from groklab.models.init import Scheme, init_weight
from groklab.specs import Spec


class ParityTransformerSpec(Spec):
    name: Literal["parity-transformer"] = "parity-transformer"
    d_emb: int = Field(1024, gt=0, description="embedding width (1024 in the paper)")
    heads: int = Field(128, gt=0, description="attention heads H (128 in the paper)")
    d_attn: int = Field(8, gt=0, description="query/key/value width per head (8 in the paper)")
    init: Scheme = Field("uniform", description="scheme for every matrix; 'uniform' = Xavier (the paper's)")
    init_scale: float = Field(1.0, gt=0, description="multiplies every initial matrix")


class ParityTransformer:
    def __init__(self, spec: ParityTransformerSpec, input_dim: int, output_dim: int):
        self.spec = spec
        self.input_dim = input_dim
        self.output_dim = output_dim  # 1: scalar output

    def init(self, key: jax.Array) -> dict:
        s, n, out = self.spec, self.input_dim, self.output_dim
        d, inner = s.d_emb, s.heads * s.d_attn
        keys = jax.random.split(key, 7)

        def matrix(k, shape):
            return init_weight(k, shape, shape[0], shape[1] if len(shape) > 1 else 1, s.init, s.init_scale)

        return {
            "embed": {"value": matrix(keys[0], (2, d)), "position": matrix(keys[1], (n, d))},
            "attention": {
                "query": matrix(keys[2], (d, inner)),
                "key": matrix(keys[3], (d, inner)),
                "value": matrix(keys[4], (d, inner)),
                "out": matrix(keys[5], (inner, d)),
                "out_bias": jnp.zeros((d,), jnp.float32),
            },
            "readout": {
                "w": init_weight(keys[6], (d,) if out == 1 else (d, out), d, out, s.init, s.init_scale),
                "b": jnp.zeros(() if out == 1 else (out,), jnp.float32),
            },
        }

    def first_layer_weights(self, params: dict) -> jax.Array:
        """The (n, d_emb) positional embedding: the per-input-coordinate parameters."""
        return params["embed"]["position"]

    def tokens(self, params: dict, x: jax.Array) -> jax.Array:
        """(B, n) inputs -> (B, n, d_emb) token vectors: bit embedding + position."""
        table = params["embed"]["value"]
        plus, minus = (1.0 + x) / 2.0, (1.0 - x) / 2.0
        return plus[..., None] * table[0] + minus[..., None] * table[1] + params["embed"]["position"]

    def attention_weights(self, params: dict, x: jax.Array) -> jax.Array:
        """(B, H, n, n) softmax attention of query position i over key positions j."""
        return self._attention(params, self.tokens(params, x))

    def _attention(self, params: dict, t: jax.Array) -> jax.Array:
        s, att = self.spec, params["attention"]
        batch, n, _ = t.shape
        q = (t @ att["query"]).reshape(batch, n, s.heads, s.d_attn)
        k = (t @ att["key"]).reshape(batch, n, s.heads, s.d_attn)
        logits = jnp.einsum("bihc,bjhc->bhij", q, k) / jnp.sqrt(jnp.float32(s.d_attn))
        return jax.nn.softmax(logits, axis=-1)

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        s, att = self.spec, params["attention"]
        batch, n = x.shape
        t = self.tokens(params, x)
        v = (t @ att["value"]).reshape(batch, n, s.heads, s.d_attn)
        # mean_i sum_j a_hij v_hj = sum_j (mean_i a_hij) v_hj: pool before the output projection.
        received = jnp.mean(self._attention(params, t), axis=2)  # (B, H, n)
        pooled = jnp.einsum("bhj,bjhc->bhc", received, v).reshape(batch, s.heads * s.d_attn)
        pooled = pooled @ att["out"] + att["out_bias"]  # (B, d_emb)
        return pooled @ params["readout"]["w"] + params["readout"]["b"]


@registry.models.register("parity-transformer", version="1", spec_class=ParityTransformerSpec,
                          description="(*iii) bit + position embedding -> one softmax multi-head attention "
                                      "layer -> mean-pool -> linear head")
def build_parity_transformer(spec: ParityTransformerSpec, input_dim: int, output_dim: int) -> ParityTransformer:
    if output_dim < 1:
        raise ValueError(f"parity-transformer needs output_dim >= 1 (got {output_dim})")
    return ParityTransformer(spec, input_dim, output_dim)
