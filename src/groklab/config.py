"""Assembly: plain dicts -> a validated, cross-checked `TrialConfig`, before any work starts.

Above the components in the import graph (specs at the bottom, then tasks, models, losses,
optimizers and probes, then this). Everything a worker would build is built or shape-evaluated
here, in the calling process, so bad input fails with one `GroklabInputError` line naming the
field instead of failing later inside a worker.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from groklab import registry
from groklab.errors import GroklabInputError
from groklab.specs import LossSpec, OptimizerSpec, TrainSpec, TrialConfig, build_spec, probe_name, probe_spec

if TYPE_CHECKING:
    from groklab.protocols import Model, Task

# Components (and so JAX) are imported inside the functions: `import groklab` must not load JAX
# before `groklab.runtime.configure_process` has set XLA's flags.


def make_config(task: dict, model: dict, loss: dict | None = None, optimizer: dict | None = None,
                train: dict | None = None, probes: Any = ()) -> TrialConfig:
    """Build and cross-validate a TrialConfig from plain dicts (as read from a sweep file or CLI)."""
    from groklab.components import ensure_registered

    ensure_registered()
    for section, values in (("task", task), ("model", model), ("loss", loss), ("optimizer", optimizer),
                            ("train", train)):
        if not isinstance(values, dict) and (values is not None or section in ("task", "model")):
            raise GroklabInputError(f"{section}: expected a table of fields (got {values!r})")
    task_entry = registry.tasks.get(_name("task", task))
    model_entry = registry.models.get(_name("model", model))
    task_spec = build_spec("task", task_entry.spec_class, task)
    model_spec = build_spec("model", model_entry.spec_class, model)
    loss_spec = build_spec("loss", LossSpec, loss or {"name": task_entry.spec_class.default_loss})
    opt_spec = build_spec("optimizer", OptimizerSpec, optimizer or {})
    train_spec = build_spec("train", TrainSpec, train or {})
    config = TrialConfig(task=task_spec, model=model_spec, loss=loss_spec, optimizer=opt_spec, train=train_spec,
                         probes=_probe_names(probes))
    check_compatible(config)
    return config


def _name(section: str, values: dict) -> str:
    name = values.get("name")
    if not isinstance(name, str):
        raise GroklabInputError(f"{section}.name: a registered {section} name is required (got {name!r})")
    return name


def _probe_names(probes: Any) -> tuple[Any, ...]:
    """Probe entries: a registered name, or a table {name = ..., field = value} for a probe with
    fields (kept as its validated spec; a table with only a name becomes the plain name)."""
    if isinstance(probes, dict):  # sweep files write [probes] names = [...]
        unknown = sorted(set(probes) - {"names"})
        if unknown:
            raise GroklabInputError(f"probes.{unknown[0]}: unknown key (a [probes] table has only 'names')")
        probes = probes.get("names", [])
    if isinstance(probes, (str, bytes)) or not isinstance(probes, (list, tuple)) or \
            not all(isinstance(p, (str, dict)) for p in probes):
        raise GroklabInputError(f"probes: expected a list of probe names or tables (got {probes!r})")
    entries = {}
    for entry in probes:
        name = entry if isinstance(entry, str) else entry.get("name")
        if not isinstance(name, str) or name not in registry.probes:
            known = ", ".join(registry.probes.names())
            raise GroklabInputError(f"probes.names: unknown probe {name!r} (known: {known})")
        if isinstance(entry, dict) and set(entry) != {"name"}:
            entry = build_spec(f"probes.{name}", registry.probes.get(name).spec_class, entry)
        if name in entries:
            raise GroklabInputError(f"probes.names: probe {name!r} listed twice (its columns would collide)")
        entries[name] = name if isinstance(entry, dict) else entry
    return tuple(entries.values())


def build_components(config: TrialConfig) -> tuple[Task, Model]:
    """The task and model objects of a config (cheap: no parameters are drawn). Usable in a fresh
    worker process: the registries are loaded first."""
    from groklab.components import ensure_registered

    ensure_registered()
    task = registry.tasks.get(config.task.name).build(config.task)
    model = registry.models.get(config.model.name).build(config.model, task.input_dim, task.num_classes)
    return task, model


def check_compatible(config: TrialConfig) -> None:
    """Cross-field checks that no single spec can make on its own, and a shape-only dry run of one
    training step and one evaluation (`jax.eval_shape`: no arithmetic, no compilation) so that a
    model that cannot take the task's inputs fails here rather than in a worker."""
    task, model = build_components(config)
    classification = task.num_classes > 1
    if classification and config.loss.name != "cross-entropy":
        raise GroklabInputError(f"loss.name: {config.task.name} is {task.num_classes}-way classification; use 'cross-entropy'")
    if not classification and config.loss.name == "cross-entropy":
        raise GroklabInputError(f"loss.name: {config.task.name} has +-1 labels; use hinge, square, logistic or correlation")
    if config.loss.rescale_gradient and (config.loss.name != "cross-entropy"
                                         or config.optimizer.name != "normalized-gd"):
        raise GroklabInputError("loss.rescale_gradient: only for cross-entropy under normalized-gd (any other "
                                "optimizer's step would change with the scale)")
    if config.loss.gradient != "log-domain" and (config.loss.name != "cross-entropy" or config.loss.rescale_gradient):
        raise GroklabInputError("loss.gradient: 'naive' is a cross-entropy gradient, and it cannot be rescaled "
                                "(rescale_gradient works in the log domain)")
    if config.loss.rescale_gradient and config.optimizer.linf_penalty and config.optimizer.penalty_inside_normalization:
        # (g / c + lambda s) / ||.|| is not (g + lambda s) / ||.||: the rescaling would multiply lambda by c.
        raise GroklabInputError("loss.rescale_gradient: rescaling the loss gradient changes its balance with "
                                "optimizer.linf_penalty inside the normalization; use penalty_inside_normalization "
                                "= false or no rescaling")
    if task.regression and config.loss.name != "square":
        raise GroklabInputError(f"loss.name: {config.task.name} has real-valued targets; use 'square'")
    if config.train.batch_size is None and task.train_size is None:
        raise GroklabInputError(f"train.batch_size: full batch needs a finite training set; {config.task.name} is online")
    check_architecture(task, model)
    _dry_run(config, task, model)
    # Probes that only fit some tasks or models say so in their `check`, run before any work.
    for entry in config.probes:
        registry.probes.get(probe_name(entry)).build(probe_spec(entry)).check(task, model)
    from groklab.optimizers import build_optimizer

    build_optimizer(config.optimizer)


def check_architecture(task: Task, model: Model) -> None:
    """Models built for one task's structure: the disjoint-PolyNet's blocks are the disjoint
    parity's blocks, one support coordinate (and one factor) per block; the quadratic pair network
    looks its inputs up as one-hot pairs (or triples, for regression), and the WG Transformer reads them as tokens [a, b, =]."""
    from groklab.models.polynet import DisjointPolyNet
    from groklab.models.quadratic_pair import QuadraticPairNet
    from groklab.models.wg_transformer import WgTransformer
    from groklab.protocols import HasOneHotPairs, HasOneHotTriples
    from groklab.tasks.parity import SparseParity

    if isinstance(model, QuadraticPairNet) and not isinstance(task, (HasOneHotPairs, HasOneHotTriples)):
        raise GroklabInputError(f"model.name: wg-quadratic reads one-hot pairs [e_a; e_b] (or triples) as lookups; "
                                f"{task.spec.name} has other inputs (use mlp)")
    if isinstance(model, QuadraticPairNet) and isinstance(task, HasOneHotTriples) and not model.triples:
        raise GroklabInputError(f"task.p: wg-quadratic reads {task.input_dim} inputs with a scalar output as triples "
                                f"only for an odd vocabulary (got {task.triple_vocabulary})")
    if isinstance(model, WgTransformer) and not isinstance(task, HasOneHotPairs):
        raise GroklabInputError(f"model.name: wg-transformer reads one-hot pairs [e_a; e_b] as tokens [a, b, =]; "
                                f"{task.spec.name} has other inputs (use parity-transformer or mlp)")

    if isinstance(model, DisjointPolyNet) and isinstance(task, SparseParity):
        if not task.spec.disjoint:
            raise GroklabInputError("model.name: disjoint-polynet has one factor per block of the disjoint parity; "
                                    "set task.disjoint = true (or use polynet)")
        if model.spec.degree != task.spec.k:
            raise GroklabInputError(f"model.degree: disjoint-polynet needs one factor per support block, degree = "
                                    f"task.k ({task.spec.k}) (got {model.spec.degree})")


# Per-trial arrays above this many elements are refused: 32-bit indexing in XLA and in the tasks'
# random indices, and 8 GB of float32 for one trial's array (the engine holds many trials at once).
MAX_ARRAY_ELEMENTS = 2**31 - 1
# What jax and numpy raise while tracing shapes they cannot build (negative or mismatched sizes,
# Python ints beyond int32).
TRACING_ERRORS = (TypeError, ValueError, IndexError, OverflowError)


def _dry_run(config: TrialConfig, task: Task, model: Model) -> None:
    import jax

    key = jax.random.key(0)
    try:
        params = jax.eval_shape(model.init, key)
    except TRACING_ERRORS as err:
        raise GroklabInputError(f"model.name: {config.model.name} cannot be built for {config.task.name} "
                                f"({_first_line(err)})") from None
    try:
        state = jax.eval_shape(task.init_state, key)
    except TRACING_ERRORS as err:
        raise GroklabInputError(f"task.name: {config.task.name} cannot draw its per-trial data "
                                f"({_first_line(err)})") from None
    _check_sizes("model.name", f"{config.model.name}'s parameters", params)
    _check_sizes("task.name", f"{config.task.name}'s per-trial data", state)
    batches = [("train.batch_size", "training batch",
                lambda s: task.train_batch(s, key, config.train.batch_size))]
    batches += [("task.name", f"evaluation batch {part}", lambda s, part=part: task.eval_batch(s, key, part))
                for part in range(len(task.eval_parts))]
    expected = () if task.num_classes == 1 else (task.num_classes,)
    for field, what, draw in batches:
        try:
            x, _ = jax.eval_shape(draw, state)
        except TRACING_ERRORS as err:
            raise GroklabInputError(f"{field}: {config.task.name} cannot draw its {what} "
                                    f"({_first_line(err)})") from None
        _check_sizes(field, f"the {what}", x)
        try:
            out = jax.eval_shape(model.apply, params, x)
        except TRACING_ERRORS as err:
            raise GroklabInputError(f"model.name: {config.model.name} cannot take {config.task.name}'s inputs "
                                    f"({_first_line(err)})") from None
        _check_sizes(field, f"{config.model.name}'s outputs on the {what}", out)
        if out.shape[1:] != expected:
            raise GroklabInputError(f"model.name: {config.model.name} outputs shape {out.shape[1:]} per example; "
                                    f"{config.task.name} needs {expected}")


def _check_sizes(field: str, what: str, tree) -> None:
    import jax

    for leaf in jax.tree.leaves(tree):
        elements = 1
        for dim in leaf.shape:
            elements *= dim
        if elements > MAX_ARRAY_ELEMENTS:
            raise GroklabInputError(f"{field}: {what} would hold an array of shape {tuple(leaf.shape)} per trial, "
                                    f"more than 2^31 - 1 elements")


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
