"""Thm 6 baseline (claim 12): a fixed random-feature model cannot fit a sparse parity when D << C(n, k).

phi(x) = relu(W x + b) with W_ij ~ N(0, 1/n) (so w.x ~ N(0, 1)) and b_j ~ N(0, 1), D features, fixed.
Only the linear readout a is fit, by ridge least squares on m training samples of the (n, k) parity:
    a = (Phi^T Phi + lam I)^{-1} Phi^T y,   prediction sign(phi(x) . a),
with a tiny lam (1e-6 times the mean diagonal of Phi^T Phi) for numerical stability. Thm 6: if
D R^2 < eps^2 C(n, k), some S has loss > 1 - eps, so test accuracy stays near 1/2.
"""
from __future__ import annotations

import numpy as np


def _parity_samples(rng: np.random.Generator, m: int, n: int, support: np.ndarray):
    x = rng.choice(np.array([-1.0, 1.0]), size=(m, n))
    return x, np.prod(x[:, support], axis=1)


def random_feature_accuracy(n: int, k: int, features: int, train_samples: int, test_samples: int,
                            seed: int = 0, ridge: float = 1e-6) -> float:
    """Test accuracy of ridge least squares on D = ``features`` fixed random ReLU features (float64, numpy).
    S is drawn uniformly from the k-subsets of [n] with the same seed."""
    rng = np.random.default_rng(seed)
    support = np.sort(rng.choice(n, size=k, replace=False))
    w = rng.normal(0.0, 1.0 / np.sqrt(n), size=(n, features))
    b = rng.normal(0.0, 1.0, size=features)

    def phi(x):
        return np.maximum(x @ w + b, 0.0)

    x_train, y_train = _parity_samples(rng, train_samples, n, support)
    x_test, y_test = _parity_samples(rng, test_samples, n, support)
    f_train = phi(x_train)
    gram = f_train.T @ f_train
    lam = ridge * float(np.mean(np.diag(gram))) + 1e-12
    a = np.linalg.solve(gram + lam * np.eye(features), f_train.T @ y_train)
    pred = np.where(phi(x_test) @ a >= 0.0, 1.0, -1.0)
    return float(np.mean(pred == y_test))
