"""High-frequency periodic targets on the real line, h_a(x) = psi(a x) (Takhanov et al. 2023, Thm 1).

psi is 1-periodic: "sawtooth" frac(u) - 1/2 (mean 0, variance 1/12; the paper's plateau at "1/12"
hints at it) or "sine" sin(2 pi u) (variance 1/2); `standardize` rescales either to variance 1.
The laws of a and x are UNRECOVERED (spec 1.1); the defaults are the spec's suggestion, exposed as
parameters: x ~ U[0, 1] and, per trial, a ~ U[frequency_low * A, frequency_high * A] = U[A, 2A].

The model sees x itself ("raw") or 2x - 1 ("centred", the default: a zero-mean input). Training is
online (a fresh batch of x every step) or on a fixed sample of `samples` points; evaluation is on
`eval_samples` fresh points every time. Labels are real, so train with the square loss and read the
test MSE from `val_loss`; the engine's accuracy is meaningless here and never reaches its target.

`target_family()` evaluates {h_a} for a on a midpoint grid of [A_low, A_high] at quadrature nodes of
[0, 1] (not exact; its note states the rule and its error).
"""
from __future__ import annotations

import math
from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import Field, model_validator

from groklab import registry
from groklab.specs import FLOAT32_MAX, MAX_SIZE, Spec
from groklab.tasks.family import TargetFamily

Psi = Literal["sawtooth", "sine"]
InputEncoding = Literal["centred", "raw"]
QuadratureRule = Literal["midpoint", "gauss-legendre"]

PSI_VARIANCE = {"sawtooth": 1 / 12, "sine": 1 / 2}  # over one period, u ~ U[0, 1)
GAUSS_LEGENDRE_ORDER = 4  # nodes per panel of the composite Gauss-Legendre rule


def psi_values(u, psi: Psi, standardize: bool = False):
    """psi(u), 1-periodic, mean 0; variance 1 when `standardize` (jnp or numpy, by the input)."""
    xp = jnp if isinstance(u, jax.Array) else np
    phase = u - xp.floor(u)  # reduce first: sin of a large float32 argument loses the phase
    values = phase - 0.5 if psi == "sawtooth" else xp.sin(2 * math.pi * phase)
    return values / math.sqrt(PSI_VARIANCE[psi]) if standardize else values


def target_variance(psi: Psi, standardize: bool) -> float:
    """Var(psi(u)), u ~ U[0,1): the test MSE of the zero predictor (1/12, 1/2, or 1)."""
    return 1.0 if standardize else PSI_VARIANCE[psi]


def encode_inputs(x, encoding: InputEncoding):
    xp = jnp if isinstance(x, jax.Array) else np
    return xp.asarray((2 * x - 1 if encoding == "centred" else x)[..., None], dtype=xp.float32)


class HighFrequencySpec(Spec):
    name: Literal["high-frequency"] = "high-frequency"
    frequency: float = Field(64.0, gt=0, description="A: per trial a ~ U[frequency_low * A, frequency_high * A]")
    frequency_low: float = Field(1.0, gt=0, description="lower end of a's law in units of A (UNRECOVERED; 1)")
    frequency_high: float = Field(2.0, gt=0, description="upper end of a's law in units of A (UNRECOVERED; 2)")
    psi: Psi = Field("sawtooth", description="1-periodic profile: sawtooth frac(u) - 1/2 or sine sin(2 pi u)")
    standardize: bool = Field(False, description="rescale psi to variance 1 (mean is already 0)")
    encoding: InputEncoding = Field("centred", description="model input: centred 2x - 1, or raw x in [0, 1]")
    samples: int | None = Field(None, gt=0, le=MAX_SIZE, description="finite training set of this many x; None = online")
    eval_samples: int = Field(8192, gt=0, le=MAX_SIZE, description="fresh test points per evaluation")
    default_loss: ClassVar[str] = "square"

    @model_validator(mode="after")
    def _check(self) -> "HighFrequencySpec":
        if self.frequency_low > self.frequency_high:
            raise ValueError(f"frequency_low ({self.frequency_low}) must be at most frequency_high "
                             f"({self.frequency_high})")
        if self.frequency_high * self.frequency > FLOAT32_MAX:
            raise ValueError(f"frequency ({self.frequency:g}) times frequency_high ({self.frequency_high:g}) must "
                             "stay within float32's range")
        return self

    @property
    def frequency_range(self) -> tuple[float, float]:
        return self.frequency_low * self.frequency, self.frequency_high * self.frequency


class HighFrequency:
    def __init__(self, spec: HighFrequencySpec):
        self.spec = spec
        self.input_dim = 1
        self.num_classes = 1
        self.regression = True  # real labels: accuracy is meaningless, read val_loss
        self.train_size = spec.samples
        self.target_variance = target_variance(spec.psi, spec.standardize)

    def _examples(self, a: jax.Array, x: jax.Array):
        y = psi_values(a * x, self.spec.psi, self.spec.standardize).astype(jnp.float32)
        return encode_inputs(x, self.spec.encoding), y

    def init_state(self, key: jax.Array) -> dict:
        a_key, x_key = jax.random.split(key)
        low, high = self.spec.frequency_range
        state = {"a": jax.random.uniform(a_key, (), minval=low, maxval=high)}
        if self.spec.samples is not None:
            state["x_train"] = jax.random.uniform(x_key, (self.spec.samples,))
        return state

    def train_batch(self, state: dict, key: jax.Array, batch_size: int | None):
        if self.spec.samples is None:
            return self._examples(state["a"], jax.random.uniform(key, (batch_size,)))
        if batch_size is None:
            return self._examples(state["a"], state["x_train"])
        idx = jax.random.randint(key, (batch_size,), 0, self.spec.samples)  # with replacement
        return self._examples(state["a"], state["x_train"][idx])

    @property
    def eval_parts(self) -> tuple[int, ...]:
        return (self.spec.eval_samples,)

    def eval_batch(self, state: dict, key: jax.Array, part: int = 0):
        return self._examples(state["a"], jax.random.uniform(jax.random.fold_in(key, part),
                                                             (self.spec.eval_samples,)))

    def train_set(self, state: dict):
        return None if self.spec.samples is None else self._examples(state["a"], state["x_train"])

    def target_family_shape(self) -> tuple[int, int, int]:
        return 64, default_quadrature_points(self.spec.frequency_range[1]), 1

    def target_family(self, hypotheses: int = 64, quadrature_points: int | None = None,
                      rule: QuadratureRule = "midpoint") -> TargetFamily:
        s = self.spec
        low, high = s.frequency_range
        return high_frequency_family(low, high, s.psi, s.standardize, s.encoding, hypotheses, quadrature_points,
                                     rule)


def default_quadrature_points(frequency_high: float) -> int:
    """32 nodes per period of the fastest target, at least 1024, a multiple of the GL order."""
    points = max(1024, 32 * math.ceil(frequency_high))
    return -(-points // GAUSS_LEGENDRE_ORDER) * GAUSS_LEGENDRE_ORDER


def quadrature(points: int, rule: QuadratureRule) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in [0, 1] and weights summing to 1: the midpoint rule, or composite Gauss-Legendre with
    GAUSS_LEGENDRE_ORDER nodes on each of points / order equal panels."""
    if rule == "midpoint":
        return (np.arange(points) + 0.5) / points, np.full(points, 1.0 / points)
    if points % GAUSS_LEGENDRE_ORDER:
        raise ValueError(f"quadrature_points ({points}) must be a multiple of {GAUSS_LEGENDRE_ORDER} for "
                         "composite Gauss-Legendre")
    panels = points // GAUSS_LEGENDRE_ORDER
    nodes, weights = np.polynomial.legendre.leggauss(GAUSS_LEGENDRE_ORDER)  # on [-1, 1], weights sum to 2
    starts = np.arange(panels)[:, None] / panels
    x = (starts + (nodes[None, :] + 1) / (2 * panels)).reshape(-1)
    w = np.broadcast_to(weights / (2 * panels), (panels, GAUSS_LEGENDRE_ORDER)).reshape(-1)
    return x, w / w.sum()


def _error_note(psi: Psi, rule: QuadratureRule, frequency_high: float, points: int) -> str:
    if psi == "sawtooth":
        return (f"sawtooth jump error of E_x[h_a f] <= {(frequency_high + 1) / points:.2g} sup|f| "
                "(typically ~sqrt(a)/N)")
    if rule == "midpoint":
        return f"sine: midpoint error <= {(2 * math.pi * frequency_high / points) ** 2 / 24:.2g} sup|f| + O(h^2 |f''|)"
    return "sine: Gauss-Legendre error negligible (smooth integrand)"


def high_frequency_family(frequency_low: float, frequency_high: float, psi: Psi = "sawtooth",
                          standardize: bool = False, encoding: InputEncoding = "centred", hypotheses: int = 64,
                          quadrature_points: int | None = None, rule: QuadratureRule = "midpoint") -> TargetFamily:
    """h_a(x) = psi(a x) for `hypotheses` frequencies a on the midpoint grid of [frequency_low,
    frequency_high] (a quadrature of a ~ U[low, high] too), at `quadrature_points` nodes of [0, 1].

    Quadrature error of E_x[h_a(x) f(x)] for a bounded, Lipschitz f: the sawtooth jumps about a times
    in [0, 1], and each jump's cell of width h = 1/N costs at most h sup|f| with either rule, so the
    error is at most (a + 1) sup|f| / N plus the smooth parts' O(h^2) (midpoint) or O(h^8) (4-node
    Gauss-Legendre); in practice the jump errors have random signs and sum to about sqrt(a) sup|f| / N.
    For the sine the midpoint error is at most (2 pi a h)^2 / 24 sup|f| + O(h^2 |f''|); Gauss-Legendre
    is far smaller. The default N (32 nodes per period of the fastest target) keeps the sawtooth's
    jump error below 1/32 of sup|f|. The frequency grid is a deterministic quadrature of the law of a,
    not a random sample, so the family counts as exhaustive (no sampling error to report)."""
    if hypotheses <= 0:
        raise ValueError(f"hypotheses ({hypotheses}) must be positive")
    points = quadrature_points or default_quadrature_points(frequency_high)
    x, weights = quadrature(points, rule)
    a = frequency_low + (np.arange(hypotheses) + 0.5) * (frequency_high - frequency_low) / hypotheses
    targets = np.asarray(psi_values(a[:, None] * x[None, :], psi, standardize), dtype=np.float32)
    note = (f"{rule} rule with {points} nodes on [0, 1]; a on the {hypotheses}-point midpoint grid of "
            f"[{frequency_low:g}, {frequency_high:g}]; {_error_note(psi, rule, frequency_high, points)}")
    return TargetFamily(name=f"high-frequency-{psi}(A=[{frequency_low:g},{frequency_high:g}])",
                        inputs=encode_inputs(x, encoding), input_weights=weights, targets=targets, hypotheses=a,
                        num_classes=1, exact=False, note=note)


@registry.tasks.register("high-frequency", version="1", spec_class=HighFrequencySpec,
                         description="psi(a x) on [0,1], a ~ U[A, 2A]: sawtooth or sine, real targets (square loss)")
def build_high_frequency(spec: HighFrequencySpec) -> HighFrequency:
    return HighFrequency(spec)
