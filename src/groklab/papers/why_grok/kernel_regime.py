"""The kernel regime of the regression network (Mohamadi et al. 2024 section 3.1 and App B; spec
claims 20 and 21), exactly, in float64 numpy.

The regression predictor on a triple (a, b, c) is g = e_c^T V (W[:, a] + W[:, p + b])^2, stored as
w (2p, h) and v (h, p) like the `wg-quadratic` model. Its gradients are

    dg / dV[k, c'] = 1(c' = c) h_k^2,      dg / dW[a, k] = dg / dW[p + b, k] = 2 V[k, c] h_k,

with h_k = W[a, k] + W[p + b, k], so its eNTK is, in closed form (O(n^2 h), no Jacobian),

    K(x, x') = 1(c = c') sum_k h_k^2 h'_k^2 + 4 sum_k V[k, c] V[k, c'] h_k h'_k (1(a = a') + 1(b = b')).

The first sum is the paper's sum_k L_k (the V part, eq. B.2), whose expectation over W with
entries of variance sigma^2 and kurtosis kappa is h (M + 4 sigma^4 I) (Prop B.3) with
M(x, x') = 4 sigma^4 1(c = c') + (kappa - 1) sigma^4 [1(a = a', c = c') + 1(b = b', c = c')].
`tests/test_why_grok_kernel.py` checks the closed form against the generic eNTK of the probes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNIFORM_KURTOSIS = 9 / 5  # E w^4 / sigma^4 for w ~ U(-s, s)


def regression_size(p: int) -> int:
    """The paper's regression training-set size n = 2 p^2.25 triples [WG App A]."""
    return round(2 * p**2.25)


def split_triples(p: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n distinct random triples (a, b, c) for training and the other p^3 - n for testing, as (m, 3)."""
    order = rng.permutation(p**3)
    triples = np.stack([order // (p * p), (order // p) % p, order % p], axis=1)
    return triples[:n], triples[n:]


def targets(triples: np.ndarray, p: int) -> np.ndarray:
    """y = p 1(a + b = c mod p)."""
    a, b, c = triples.T
    return p * ((a + b) % p == c).astype(np.float64)


def uniform_init(p: int, width: int, rng: np.random.Generator, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch nn.Linear's default U(+-1/sqrt(fan_in)) for W (fan_in 2p) and V (fan_in h), times alpha."""
    w = rng.uniform(-1, 1, (2 * p, width)) / np.sqrt(2 * p)
    v = rng.uniform(-1, 1, (width, p)) / np.sqrt(width)
    return scale * w, scale * v


def hidden(w: np.ndarray, triples: np.ndarray) -> np.ndarray:
    p = w.shape[0] // 2
    return w[triples[:, 0]] + w[p + triples[:, 1]]


def outputs(w: np.ndarray, v: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """g(theta; (a, b, c)) = sum_k V[k, c] h_k^2."""
    return np.sum(hidden(w, triples) ** 2 * v[:, triples[:, 2]].T, axis=1)


def ntk(w: np.ndarray, v: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The eNTK of g between two sets of triples, (n_left, n_right), in closed form."""
    h_l, h_r = hidden(w, left), hidden(w, right)
    same = lambda i: left[:, i, None] == right[None, :, i]  # noqa: E731 - (n_l, n_r) indicator of one slot
    v_part = same(2) * ((h_l**2) @ (h_r**2).T)
    w_part = 4 * ((h_l * v[:, left[:, 2]].T) @ (h_r * v[:, right[:, 2]].T).T) * (same(0) * 1.0 + same(1))
    return v_part + w_part


def neuron_kernel(w: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """sum_k L_k(x, x') = 1(c = c') sum_k h_k^2 h'_k^2, the V part of the eNTK (eq. B.2)."""
    sq = hidden(w, triples) ** 2
    return (triples[:, 2, None] == triples[None, :, 2]) * (sq @ sq.T)


def expected_neuron_kernel(triples: np.ndarray, variance: float, kurtosis: float) -> np.ndarray:
    """E[L_k] = M + 4 sigma^4 I on distinct triples (Prop B.3)."""
    same = lambda i: (triples[:, i, None] == triples[None, :, i]).astype(np.float64)  # noqa: E731 - not bool: 1 + 1 = 2
    s4 = variance**2
    m = 4 * s4 * same(2) + (kurtosis - 1) * s4 * (same(0) * same(2) + same(1) * same(2))
    return m + 4 * s4 * np.eye(len(triples))


@dataclass(frozen=True)
class KernelFit:
    train_mse: float
    test_mse: float
    lambda_min: float  # smallest eigenvalue of the training Gram
    rank: int  # numerical rank of the training Gram (eigenvalues above n eps lambda_max)


def ridgeless_regression(k_train: np.ndarray, k_test_train: np.ndarray, y_train: np.ndarray, y_test: np.ndarray,
                         f0_train: np.ndarray, f0_test: np.ndarray) -> KernelFit:
    """f = f_0 + K(., X) K^+ (y - f_0(X)) (WG B.1): train/test MSE, lambda_min and rank of K."""
    eigenvalues, vectors = np.linalg.eigh(k_train)
    cutoff = len(y_train) * np.finfo(np.float64).eps * max(eigenvalues[-1], 0.0)
    kept = eigenvalues > cutoff
    inverse = (vectors[:, kept] / eigenvalues[kept]) @ vectors[:, kept].T  # the pseudo-inverse K^+
    coefficients = inverse @ (y_train - f0_train)
    train = f0_train + k_train @ coefficients
    test = f0_test + k_test_train @ coefficients
    return KernelFit(float(np.mean((train - y_train) ** 2)), float(np.mean((test - y_test) ** 2)),
                     float(eigenvalues[0]), int(kept.sum()))


def kernel_fit_at_init(p: int, width: int, n: int, seed: int, scale: float = 1.0) -> KernelFit:
    """eNTK ridgeless regression of the regression network at a uniform init on n random triples."""
    rng = np.random.default_rng(seed)
    train, test = split_triples(p, n, rng)
    w, v = uniform_init(p, width, rng, scale)
    return ridgeless_regression(ntk(w, v, train, train), ntk(w, v, test, train), targets(train, p),
                                targets(test, p), outputs(w, v, train), outputs(w, v, test))


def rank_bound(p: int, width: int, n: int) -> int:
    """min(n, (3p - 2) h): the Gram's rank at init ([cal2] of claim 20)."""
    return min(n, (3 * p - 2) * width)


def most_frequent_c(triples: np.ndarray) -> int:
    """rho_c of Thm 3.1: how often the most frequent c occurs."""
    return int(np.bincount(triples[:, 2]).max())


def entk_fit(fn, params, x_train, y_train: np.ndarray, x_test, y_test: np.ndarray, method: str = "auto") -> KernelFit:
    """eNTK ridgeless regression of any scalar network g = fn(params, x) at any parameters (at init or
    at a step of training): the Gram from `groklab.probes.entk_gram` (float32), solved in float64."""
    import jax.numpy as jnp

    from groklab.probes.entk_gram import entk_gram

    n = len(y_train)
    x = jnp.concatenate([jnp.asarray(x_train), jnp.asarray(x_test)])
    gram = np.asarray(entk_gram(fn, params, x, method), np.float64)
    f0 = np.asarray(fn(params, x), np.float64)
    return ridgeless_regression(gram[:n, :n], gram[n:, :n], np.asarray(y_train, np.float64),
                                np.asarray(y_test, np.float64), f0[:n], f0[n:])
