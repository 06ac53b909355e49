"""The variance of the loss gradient over a hypothesis class (Shalev-Shwartz et al. 2017; Takhanov et
al. 2023, Thms 1 and 15; spec section 1.6):

    C_h(w) = E_x loss(f(w, x), h(x)),      Var(H, w) = E_h || grad_w C_h(w) - E_h' grad_w C_h'(w) ||^2.

When Var is tiny, the gradient carries almost no information about which target of the class is
being learned: a barren plateau. It is reported raw and normalized by E_x ||grad_w f(w, x)||^2,
which makes it comparable across models and sizes; for pairwise-orthonormal targets and the square
loss (f - y)^2 the normalized variance is at most 4 / |H| (Bessel's inequality; SSS17 state it for
the loss (f - y)^2 / 2, hence the factor 4).

How it is computed. grad_w C_h = sum_x w_x loss'(f(x), h(x)) J(x), with J(x) = grad_w f(w, x) and
w_x the input weights. The map from the residuals r_h(x) = loss'(f(x), h(x)) to the gradient is
linear, so the class mean is the gradient of the mean residual and the centred gradients are

    G = ((R - mean_h R) * w) @ J,      Var = mean_h ||G_h||^2,

one matrix product over all targets at once (in blocks of targets, float64 on the host), never a
loop over targets, and no cancellation between a large mean and a small spread. For scalar
outputs J is the (N, P) Jacobian; for p-way logits the per-target gradients come from one
vector-Jacobian product per block of targets. The same quantity is available inside the engine
as the `gradient-variance` probe (float32, small classes).

Errors. On an exact input set (all 2^n sign vectors, all of Z_p^*) with every hypothesis of the
class the result is exact up to rounding. A sampled class (`exhaustive` False) comes with the
standard error of the mean over its hypotheses; a quadrature or Monte-Carlo input set (`exact`
False) with the change when the input set is halved (every other point, weights renormalized), a
conservative bound on the error of the finer rule.
"""
from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from groklab.tasks.family import TargetFamily

_BINARY_LOSSES = ("square", "hinge", "logistic", "correlation")


@dataclass(frozen=True)
class VarianceResult:
    variance: float  # Var(H, w)
    grad_norm_sq: float  # E_x ||grad_w f(w, x)||^2 (summed over outputs for logits)
    mean_gradient_norm_sq: float  # ||E_h grad_w C_h||^2, for scale
    hypotheses: int
    inputs: int
    parameters: int
    exact: bool  # the inputs are the input distribution itself (else quadrature / Monte-Carlo)
    exhaustive: bool  # every hypothesis of the class (else a uniform sample)
    hypothesis_standard_error: float | None  # s.e. of the mean over sampled hypotheses (None: exhaustive)
    quadrature_error: float | None  # |Var - Var on every other input| (None: exact inputs)

    @property
    def normalized(self) -> float:
        return self.variance / self.grad_norm_sq if self.grad_norm_sq > 0 else float("nan")

    def as_dict(self) -> dict:
        return {**asdict(self), "normalized": self.normalized}


def loss_derivative(loss: str):
    """d loss / d output, per example: (outputs, targets) -> residuals, same shape as outputs."""
    if loss == "cross-entropy":
        return lambda logits, y: jax.nn.softmax(logits, axis=-1) - jax.nn.one_hot(y, logits.shape[-1])
    if loss not in _BINARY_LOSSES:
        raise ValueError(f"loss must be one of {_BINARY_LOSSES + ('cross-entropy',)} (got {loss!r})")
    from groklab.losses import _BINARY

    per_example = _BINARY[loss]
    return jax.vmap(jax.grad(per_example))


class _Residuals:
    """Residuals loss'(f(x), h(x)) in blocks of targets, (block, N[, C]) float64, never all at once
    (at p = 10^4 the full (H, N) matrix would be 800 MB)."""

    def __init__(self, model, params, family: TargetFamily, loss: str, block: int):
        self.family, self.block = family, block
        self.outputs = model.apply(params, jnp.asarray(family.inputs, jnp.float32))
        self._derivative = jax.jit(jax.vmap(loss_derivative(loss), in_axes=(None, 0)))
        total = sum(b.sum(axis=0) for b in self._raw_blocks())
        self.mean = total / family.size

    def _raw_blocks(self):
        for i in range(0, self.family.size, self.block):
            targets = jnp.asarray(self.family.targets[i:i + self.block])
            yield np.asarray(self._derivative(self.outputs, targets), np.float64)

    def centred_blocks(self):
        for raw in self._raw_blocks():
            yield raw - self.mean


def _jacobian(model, params, inputs: np.ndarray, block: int = 1024) -> np.ndarray:
    """(N, P) float64 Jacobian of a scalar-output model, computed in blocks of inputs."""
    flat, unravel = ravel_pytree(params)
    one = lambda theta, x: model.apply(unravel(theta), x[None])[0]  # noqa: E731
    jac = jax.jit(jax.vmap(jax.grad(one), in_axes=(None, 0)))
    return np.concatenate([np.asarray(jac(flat, jnp.asarray(inputs[i:i + block], jnp.float32)), np.float64)
                           for i in range(0, len(inputs), block)])


def _centred_gradient_norms(model, params, family: TargetFamily, residuals: _Residuals, weights: np.ndarray
                            ) -> tuple[np.ndarray, float, float, int]:
    """||G_h||^2 for every target, ||mean gradient||^2, E_x||grad f||^2 and the parameter count."""
    flat, unravel = ravel_pytree(params)
    if residuals.mean.ndim == 1:  # scalar outputs: one Jacobian, one matrix product per block of targets
        jacobian = _jacobian(model, params, family.inputs)
        norms = np.concatenate([np.sum(((block * weights) @ jacobian) ** 2, axis=1)
                                for block in residuals.centred_blocks()])
        mean_gradient = (residuals.mean * weights) @ jacobian
        grad_norm_sq = float(weights @ np.sum(jacobian**2, axis=1))
        return norms, float(mean_gradient @ mean_gradient), grad_norm_sq, jacobian.shape[1]
    # Logits: one vector-Jacobian product per target, in blocks of targets.
    x = jnp.asarray(family.inputs, jnp.float32)
    _, vjp = jax.vjp(lambda theta: model.apply(unravel(theta), x), flat)
    batched = jax.jit(jax.vmap(lambda cotangent: vjp(cotangent)[0]))
    w = weights[:, None]
    norms = np.concatenate([np.sum(np.asarray(batched(jnp.asarray(block * w, jnp.float32)), np.float64) ** 2, axis=1)
                            for block in residuals.centred_blocks()])
    mean_gradient = np.asarray(vjp(jnp.asarray(residuals.mean * w, jnp.float32))[0], np.float64)
    # Classes one at a time, so only one (N, P) block of per-input gradients is ever live.
    class_norms = jax.jit(lambda c: jax.vmap(lambda xi: jnp.sum(jax.grad(
        lambda theta: model.apply(unravel(theta), xi[None])[0, c])(flat) ** 2))(x))
    grad_norm_sq = float(sum(np.asarray(class_norms(c), np.float64) @ weights for c in range(residuals.mean.shape[-1])))
    return norms, float(mean_gradient @ mean_gradient), grad_norm_sq, flat.size


def gradient_variance(model, params, family: TargetFamily, loss: str = "square", block: int = 512,
                      error_estimates: bool = True) -> VarianceResult:
    """Var(H, w) of `loss` over `family` at parameters `params` of `model` (one trial's pytree)."""
    weights = np.asarray(family.input_weights, np.float64)
    residuals = _Residuals(model, params, family, loss, block)
    norms, mean_sq, grad_norm_sq, parameters = _centred_gradient_norms(model, params, family, residuals, weights)
    variance = float(norms.mean())
    standard_error = (float(norms.std(ddof=1) / np.sqrt(len(norms)))
                      if not family.exhaustive and len(norms) > 1 else None)
    quadrature_error = None
    if not family.exact and error_estimates and len(weights) >= 4:
        half = dataclasses.replace(family, inputs=family.inputs[::2], input_weights=weights[::2] / weights[::2].sum(),
                                   targets=family.targets[:, ::2])
        coarse = gradient_variance(model, params, half, loss, block, error_estimates=False)
        quadrature_error = abs(coarse.variance - variance)
    return VarianceResult(variance=variance, grad_norm_sq=grad_norm_sq, mean_gradient_norm_sq=mean_sq,
                          hypotheses=family.size, inputs=len(weights), parameters=parameters,
                          exact=family.exact, exhaustive=family.exhaustive, hypothesis_standard_error=standard_error,
                          quadrature_error=quadrature_error)


def brute_force_variance(model, params, family: TargetFamily, loss: str = "square") -> float:
    """The definition, one target at a time with jax.grad of C_h (a reference for tests)."""
    x = jnp.asarray(family.inputs, jnp.float32)
    w = jnp.asarray(family.input_weights, jnp.float32)
    if loss == "cross-entropy":
        import optax

        per_example = lambda f, y: optax.softmax_cross_entropy_with_integer_labels(f, y)  # noqa: E731
    else:
        from groklab.losses import _BINARY

        per_example = _BINARY[loss]
    grads = []
    for h in range(family.size):
        y = jnp.asarray(family.targets[h])
        grad = jax.grad(lambda p: jnp.sum(w * per_example(model.apply(p, x), y)))(params)
        grads.append(np.asarray(ravel_pytree(grad)[0], np.float64))
    grads = np.stack(grads)
    return float(np.mean(np.sum((grads - grads.mean(axis=0)) ** 2, axis=1)))


def build_task_and_model(task: dict, model: dict):
    """The task and model objects of two spec dicts, as make_config validates them."""
    from groklab import registry
    from groklab.components import ensure_registered
    from groklab.specs import build_spec

    ensure_registered()
    task_entry, model_entry = registry.tasks.get(task.get("name", "")), registry.models.get(model.get("name", ""))
    built = task_entry.build(build_spec("task", task_entry.spec_class, task))
    return built, model_entry.build(build_spec("model", model_entry.spec_class, model), built.input_dim,
                                    built.num_classes)


def class_variance(task: dict, model: dict, seed: int = 0, loss: str = "square", **family_args) -> VarianceResult:
    """Var(H, w) over `task`'s hypothesis class at a random initialization (key `seed`) of `model`,
    e.g. class_variance({"name": "modular-multiplication", "p": 997, "target": "standardized"},
    {"name": "mlp", "width": 100})."""
    task_obj, model_obj = build_task_and_model(task, model)
    return gradient_variance(model_obj, model_obj.init(jax.random.key(seed)), task_obj.target_family(**family_args),
                             loss)
