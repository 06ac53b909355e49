"""Prop 3.8 / App F of Mohamadi et al.: explicit weights of the quadratic network with
||theta||_inf <= 1 whose outputs are exactly f_q(e_a, e_b) = 4p * 1(a + b = q mod p), and the
margins the paper measures on any network.

The derivation (ours; the paper's text has its formulas stripped): with theta_k = 2 pi k / p,
sum_{k<p} cos(theta_k (a + b - q)) = p * 1(a + b = q), and
cos(theta_k (a + b - q)) = cos(theta_k q) [c_a c_b - s_a s_b] + sin(theta_k q) [s_a c_b + c_a s_b]
with c_a = cos(theta_k a), s_a = sin(theta_k a). Each product x y is ((x + y)^2 - (x - y)^2) / 4,
one pair of quadratic neurons with first-layer rows x over a and +-y over b. Four products per
frequency, two neurons each: h = 8p neurons with |W| <= 1, and output weights +-cos, +-sin (|V| <= 1)
that sum 4 x the identity above: 4p * 1(a + b = q). For h > 8p the network is 3-homogeneous, so c =
floor(h / 8p) copies each scaled by c^(-1/3) give the same function with ||theta||_inf = c^(-1/3);
the remaining neurons are zero.
"""
from __future__ import annotations

import numpy as np


def fourier_construction(p: int, width: int | None = None) -> dict:
    """Parameters {"w": (2p, h), "v": (h, p)} of the `wg-quadratic` model (h = width, default 8p)."""
    width = 8 * p if width is None else width
    if width < 8 * p:
        raise ValueError(f"width ({width}) must be at least 8p = {8 * p}")
    theta = 2 * np.pi * np.arange(p)[:, None] * np.arange(p)[None, :] / p  # (frequency k, symbol)
    cos, sin = np.cos(theta), np.sin(theta)
    # (x over a, y over b, output weight over q) for the four products of each frequency
    products = [(cos, cos, cos), (sin, sin, -cos), (sin, cos, sin), (cos, sin, sin)]
    w_rows, v_rows = [], []
    for x, y, coefficient in products:
        for sign in (1.0, -1.0):  # (x + y)^2 with weight +c, (x - y)^2 with weight -c
            w_rows.append(np.concatenate([x, sign * y], axis=1))  # (p frequencies, 2p)
            v_rows.append(sign * coefficient)  # (p frequencies, p outputs q)
    w, v = np.concatenate(w_rows), np.concatenate(v_rows)  # (8p, 2p), (8p, p)
    copies = width // (8 * p)
    scale = copies ** (-1.0 / 3.0)
    w_full = np.zeros((width, 2 * p))
    v_full = np.zeros((width, p))
    w_full[: copies * 8 * p] = np.tile(w, (copies, 1)) * scale
    v_full[: copies * 8 * p] = np.tile(v, (copies, 1)) * scale
    return {"w": w_full.T.copy(), "v": v_full}


def all_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Every one-hot pair [e_a; e_b] (p^2, 2p), in the order a * p + b, and its label (a + b) mod p."""
    a, b = np.divmod(np.arange(p * p), p)
    eye = np.eye(p)
    return np.concatenate([eye[a], eye[b]], axis=1), (a + b) % p


def min_margin(logits: np.ndarray, labels: np.ndarray) -> float:
    """q_min = min over examples of f_y - max_{q != y} f_q (WG section 3.3)."""
    logits = np.asarray(logits, dtype=np.float64)
    rows = np.arange(len(labels))
    correct = logits[rows, labels]
    others = logits.copy()
    others[rows, labels] = -np.inf
    return float(np.min(correct - others.max(axis=1)))


def linf_norm(params: dict) -> float:
    """||theta||_inf over every entry of every parameter array (W and V jointly, WG eq. 2.2)."""
    return float(max(np.max(np.abs(np.asarray(leaf))) for leaf in params.values()))


def normalized_margin(logits: np.ndarray, labels: np.ndarray, params: dict, homogeneity: int = 3) -> float:
    """q_min / ||theta||_inf^L for an L-homogeneous network (L = 3 for the quadratic network)."""
    return min_margin(logits, labels) / linf_norm(params) ** homogeneity
