"""The declared interfaces of groklab's components. Engine, probes and recipes rely on these and on
nothing else: an optional capability is its own protocol, tested with `isinstance`, never probed
with `getattr`/`hasattr`. Component code is written for ONE trial; the engine vmaps it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: this module must not import JAX
    import jax

    from groklab.tasks.family import TargetFamily

Batch = tuple["jax.Array", "jax.Array"]  # (inputs, labels): labels are +-1 floats, reals, or int classes


@runtime_checkable
class Task(Protocol):
    spec: Any
    input_dim: int
    num_classes: int  # 1: a single real output scored against +-1 labels (or reals); p > 1: p-way classification
    regression: bool  # real-valued targets: no accuracy (recorded as NaN), read val_loss (the test MSE)
    train_size: int | None  # None: online (a fresh batch every step); m: a fixed training set of m points
    eval_parts: tuple[int, ...]  # sizes of the held-out batch's parts (see eval_batch)

    def init_state(self, key: jax.Array) -> Any:
        """Per-trial fixed randomness (the hidden support, the training sample), as a pytree."""

    def train_batch(self, state: Any, key: jax.Array, batch_size: int | None) -> Batch:
        """A training batch; batch_size None means the whole (finite) training set."""

    def eval_batch(self, state: Any, key: jax.Array, part: int = 0) -> Batch:
        """Part `part` of the held-out data (noiseless labels); validation accuracy and t_c are
        measured on all parts together. With two parts the engine scores part 1 only for trials
        that could still reach the target accuracy given part 0 (exact for t_c)."""

    def train_set(self, state: Any) -> Batch | None:
        """The full training set for finite tasks (train accuracy is measured on it), else None."""


@runtime_checkable
class HasTargetFamily(Protocol):
    """A task whose hypothesis class can be enumerated (or sampled) as arrays, for hardness
    measures that compare targets: gradient variance, correlations, SQ dimension."""

    def target_family(self) -> TargetFamily:
        """The class with default arguments; tasks take their own keyword arguments too."""

    def target_family_shape(self) -> tuple[int, int, int]:
        """(hypotheses, inputs, classes) of `target_family()` with its default arguments, computed
        without building it, so that a caller can refuse a class too large to hold."""


@runtime_checkable
class HasOneHotPairs(Protocol):
    """A task whose inputs are one-hot pairs [e_a; e_b] over a vocabulary of `pair_vocabulary`
    symbols (input_dim = 2 * pair_vocabulary): models may read them as two embedding lookups."""

    pair_vocabulary: int


@runtime_checkable
class HasOneHotTriples(Protocol):
    """A task whose inputs are one-hot triples [e_a; e_b; e_c] over a vocabulary of
    `triple_vocabulary` symbols (input_dim = 3 * triple_vocabulary) with a scalar target for the
    third symbol given the pair: models may read g = entry c of a p-vector f(a, b) by lookups."""

    triple_vocabulary: int


@runtime_checkable
class HasPairOutputs(Protocol):
    """A model built on a vector f(a, b) over a pair of symbols that it can give whole: the logits
    on one-hot pairs; on one-hot triples the vector whose entry c is the scalar output g(a, b, c)
    (for argmax read-outs over c, e.g. the unseen-pair accuracy of modular regression)."""

    def pair_outputs(self, params: Any, a: jax.Array, b: jax.Array) -> jax.Array:
        """f(a, b) for integer symbol arrays a, b of shape (N,): (N, vocabulary)."""


@runtime_checkable
class Model(Protocol):
    spec: Any
    input_dim: int
    output_dim: int  # 1: scalar output; p: logits

    def init(self, key: jax.Array) -> Any:
        """Parameters of one trial, a pytree."""

    def apply(self, params: Any, x: jax.Array) -> jax.Array:
        """Outputs (batch,) for scalar models or (batch, output_dim) logits."""


@runtime_checkable
class HasHomogeneity(Protocol):
    """A model whose outputs are L-homogeneous in its parameters, f(c theta) = c^L f(theta): its
    normalized margin is q_min / ||theta||_inf^L (Mohamadi et al. section 3.3)."""

    homogeneity: int


@runtime_checkable
class HasFirstLayer(Protocol):
    """A model with an (input_dim, units) first-layer weight matrix (hidden-progress probes)."""

    def first_layer_weights(self, params: Any) -> jax.Array: ...


# A probe's measurement of one trial at one evaluation: (model, task, params, initial params,
# task state) -> dict of scalars, traced inside the compiled, vmapped evaluation.
Measure = Callable[[Model, Task, Any, Any, Any], dict]


@runtime_checkable
class Probe(Protocol):
    def __call__(self, model: Model, task: Task, params: Any, init_params: Any, task_state: Any) -> dict: ...

    def check(self, task: Task, model: Model) -> None:
        """Raise GroklabInputError if the probe cannot measure this task and model (run by
        make_config before any work)."""


@runtime_checkable
class HasExactNtk(Protocol):
    """A model that knows its eNTK in closed form: much cheaper than a Jacobian when each example's
    gradient is sparse (embedding lookups). The `entk` probe prefers it under method 'auto'."""

    def exact_ntk(self, params: Any, x: jax.Array, readout: jax.Array | None) -> jax.Array:
        """(n, n) eNTK of g(x) = readout . f(x) for a (C,) readout vector; readout None: the
        model's own scalar output."""
