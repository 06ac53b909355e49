"""Property: any spec values, however malformed, either build a config or fail with one
GroklabInputError line naming the field, in `make_config` and through the CLI (`groklab run
parity`, `groklab sweep FILE`). Never another exception, never a traceback, never any work."""
from __future__ import annotations

import json
import math
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groklab import GroklabInputError, registry
from groklab.components import ensure_registered
from groklab.config import make_config
from groklab.specs import LossSpec, OptimizerSpec, TrainSpec, TrialConfig

ensure_registered()

# Bounded and reproducible: the same examples on every run (CI included), no per-example deadline
# (the first make_config of a model traces JAX).
BOUNDED = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
BOUNDED_CLI = settings(BOUNDED, max_examples=150)

# Small valid tasks, so that examples that mutate nothing build cheaply; a task missing here is
# fuzzed from its defaults.
SMALL_TASKS = {"parity": {"n": 12, "k": 3}, "modular-addition": {"p": 7}, "modular-multiplication": {"p": 13},
               "high-frequency": {"frequency": 4.0, "eval_samples": 64}}
SECTIONS = {"loss": LossSpec, "optimizer": OptimizerSpec, "train": TrainSpec}

# Values every field gets thrown at it: wrong types, signs and magnitudes.
MALFORMED = [None, True, False, "", "3", "abc", [], [1, 2], {}, {"a": 1}, -1, 0, 1, 2, 7, 2**31, 2**63, 10**30,
             -(2**63), math.nan, math.inf, -math.inf, 1e308, -0.0, 0.5, 1.5, 3.0, 1e-300]


def literal_choices(annotation) -> list:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return list(typing.get_args(annotation))
    return [v for arm in typing.get_args(annotation) for v in literal_choices(arm)]


def field_values(spec_class, field: str) -> st.SearchStrategy:
    choices = literal_choices(spec_class.model_fields[field].annotation)
    return st.one_of(st.sampled_from(MALFORMED), st.integers(-5, 100),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4),
                     *([st.sampled_from(choices)] if choices else []))


@st.composite
def mutated(draw, spec_class, base: dict) -> dict:
    """`base` with a few fields replaced by arbitrary values, sometimes an unknown key, rarely a
    different name."""
    values = dict(base)
    fields = [f for f in spec_class.model_fields if f != "name"]
    for field in draw(st.lists(st.sampled_from(fields), max_size=3, unique=True)) if fields else []:
        values[field] = draw(field_values(spec_class, field))
    if draw(st.integers(0, 9)) == 0:
        values[draw(st.sampled_from(["bogus", "N", "width ", ""]))] = draw(st.sampled_from(MALFORMED))
    if draw(st.integers(0, 19)) == 0:
        values["name"] = draw(st.sampled_from(MALFORMED + ["nope", "Parity"]))
    return values


def section_fields(section: str, config_values: dict) -> set[str]:
    """The fields a message may blame in `section`: its spec's and any key handed to make_config."""
    given = config_values.get(section)
    given = {str(key) for key in given} if isinstance(given, dict) else set()
    if section == "probes":  # "probes.names" or a probe's own name: "probes.entk.points"
        return {"names"} | given | set(registry.probes.names())
    if section in SECTIONS:
        return set(SECTIONS[section].model_fields) | given
    reg = registry.tasks if section == "task" else registry.models
    name = config_values[section].get("name") if isinstance(config_values[section], dict) else None
    known = isinstance(name, str) and name in reg
    return (set(reg.get(name).spec_class.model_fields) if known else {"name"}) | given


def assert_names_a_field(message: str, config_values: dict) -> None:
    assert "\n" not in message and message.strip() == message, repr(message)
    blamed = message.split(":")[0]
    section, _, field = blamed.partition(".")
    assert section in ("task", "model", "loss", "optimizer", "train", "probes"), message
    if field:
        assert field.split(".")[0] in section_fields(section, config_values), message


@st.composite
def config_values(draw, section: str, name: str | None) -> dict:
    """Keyword arguments for make_config with `section` (named `name`) fuzzed hardest."""
    task_name = name if section == "task" else draw(st.sampled_from(registry.tasks.names()))
    model_name = name if section == "model" else draw(st.sampled_from(registry.models.names()))
    task_entry, model_entry = registry.tasks.get(task_name), registry.models.get(model_name)
    base_task = {"name": task_name, **SMALL_TASKS.get(task_name, {})}
    values = {
        "task": draw(mutated(task_entry.spec_class, base_task)) if section == "task" else base_task,
        "model": draw(mutated(model_entry.spec_class, {"name": model_name})) if section == "model"
        else {"name": model_name, **({"degree": 3} if model_name == "disjoint-polynet" else {})},
        "train": {"max_steps": 200, "eval_every": 100},
    }
    if section == "loss":
        values["loss"] = draw(mutated(LossSpec, {"name": name}))
    if section == "optimizer":
        values["optimizer"] = draw(mutated(OptimizerSpec, {"name": name}))
    if section == "train":
        values["train"] = draw(mutated(TrainSpec, values["train"]))
    if section == "probes":
        others = st.sampled_from(registry.probes.names() + ["nope"])
        values["probes"] = draw(st.one_of(st.just([name]), st.lists(others, max_size=3).map(lambda p: [name, *p]),
                                          st.just({"names": [name]}), st.just({"names": [name], "x": 1}),
                                          st.sampled_from(MALFORMED)))
    if draw(st.integers(0, 14)) == 0:  # a whole section of the wrong type
        values[draw(st.sampled_from(["task", "model", "loss", "optimizer", "train"]))] = \
            draw(st.sampled_from(MALFORMED))
    return values


CASES = ([("task", n) for n in registry.tasks.names()] + [("model", n) for n in registry.models.names()]
         + [("loss", n) for n in registry.losses.names()] + [("optimizer", n) for n in registry.optimizers.names()]
         + [("probes", n) for n in registry.probes.names()] + [("train", None)])


@pytest.mark.parametrize("section, name", CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_make_config_builds_or_names_the_field(section, name):
    @BOUNDED
    @given(config_values(section, name))
    def check(values):
        try:
            config = make_config(**values)
        except GroklabInputError as err:
            assert_names_a_field(str(err), values)
        else:
            assert isinstance(config, TrialConfig)

    check()


# ---------------------------------------------------------------- the CLI: `groklab run parity`, `groklab sweep`

class WorkStarted(Exception):
    """Raised by the stand-in for execute_plan: the input was accepted and work would start now."""


def no_work(*args, **kwargs):
    raise WorkStarted


@pytest.fixture
def stop_before_work(monkeypatch):
    import groklab.experiments.parity
    import groklab.runner

    monkeypatch.setattr(groklab.runner, "execute_plan", no_work)
    monkeypatch.setattr(groklab.experiments.parity, "execute_plan", no_work)


def run_cli(cli, args: list[str]) -> tuple[int | None, str]:
    """(exit code, stderr), or (None, "") when the command got as far as starting work."""
    try:
        code, _, err = cli(args)
    except WorkStarted:
        return None, ""
    return code, err


def assert_one_line_error(code: int, err: str, allowed: set[str]) -> None:
    assert code == 2 and "Traceback" not in err, err
    assert err.endswith("\n") and err.count("\n") == 1 and err.startswith("error: "), repr(err)
    blamed = err[len("error: "):].split(":")[0]
    section, _, field = blamed.partition(".")
    assert blamed in allowed or blamed.startswith("--") or \
        section in ("task", "model", "loss", "optimizer", "train", "probes"), err


def parity_options():
    from groklab.catalog import load_all

    load_all()
    return registry.experiments.get("parity").spec_class


FLAG_TEXT = ["0", "1", "-1", "2", "3", "12", "", "abc", "nan", "inf", "-inf", "1e400", "1e39", "0.5", "1.5", "true",
             "2147483648", "99999999999999999999", "None", ",", "hidden-progress", "hidden-progress,nope",
             "fourier-gap,gradient-variance"]


@st.composite
def parity_flags(draw) -> list[str]:
    options = parity_options()
    args = ["--n", "12", "--trials", "2", "--max-steps", "200"]
    for field in draw(st.lists(st.sampled_from(sorted(options.model_fields)), max_size=3, unique=True)):
        flag = "--" + field.replace("_", "-")
        annotation = options.model_fields[field].annotation
        if annotation is bool:
            args.append(draw(st.sampled_from([flag, flag.replace("--", "--no-", 1), flag + "=1"])))
            continue
        choices = [str(c) for c in literal_choices(annotation)]
        args += [flag, draw(st.one_of(st.sampled_from(FLAG_TEXT + choices), st.text(max_size=4)))]
    if draw(st.integers(0, 9)) == 0:
        args += draw(st.sampled_from([["--bogus", "1"], ["extra"], ["--n"], ["--workers", "-1"]]))
    return args


def test_cli_run_parity_builds_or_names_the_option(cli, tmp_path, stop_before_work):
    options = parity_options()
    allowed = ({f"parity.{f}" for f in options.model_fields} | set(options.model_fields) | {"workers", "arguments"}
               )
    store = tmp_path / "store"

    @BOUNDED_CLI
    @given(parity_flags())
    def check(flags):
        code, err = run_cli(cli, ["run", "parity", *flags, "--workers", "0", "--store", str(store)])
        if code is not None:
            assert_one_line_error(code, err, allowed)
            assert not store.exists()

    check()


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items() if v is not None)
        return "{" + ", ".join(items) + "}"
    raise TypeError(value)


def toml_document(top: dict, sections: dict) -> str:
    """A sweep file; None values are left out (TOML has no null)."""
    lines = [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in top.items() if v is not None]
    for name, fields in sections.items():
        if isinstance(fields, dict):
            lines.append(f"[{name}]")
            lines += [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in fields.items() if v is not None]
        elif fields is not None:
            lines.insert(0, f"{name} = {toml_value(fields)}")
    return "\n".join(lines) + "\n"


@st.composite
def sweep_files(draw) -> str:
    section, name = draw(st.sampled_from(CASES))
    values = draw(config_values(section, name))
    for key in ("task", "model", "optimizer", "train"):  # grid axes: a field's value (or values) as a list
        fields = values.get(key)
        if isinstance(fields, dict) and fields and draw(st.integers(0, 3)) == 0:
            field = draw(st.sampled_from(sorted(fields, key=str)))
            fields[field] = draw(st.sampled_from([[fields[field]], [], [fields[field], fields[field]]]))
    if isinstance(values.get("probes"), list):
        values["probes"] = {"names": values["probes"]}
    top = {"name": "fuzz", "trials": 2}
    if draw(st.integers(0, 3)) == 0:
        top[draw(st.sampled_from(["seed", "trials", "chunk_size", "name", "bogus"]))] = draw(st.sampled_from(MALFORMED))
    text = toml_document(top, values)
    if draw(st.integers(0, 19)) == 0:  # not TOML at all
        text = draw(st.sampled_from(["[task", "n = = 3", "[task]\nn = 1\n[task]\nn = 2", "\x00"]))
    return text


def test_cli_sweep_builds_or_names_the_field(cli, tmp_path, stop_before_work):
    allowed = {"sweep file", "seed", "trials", "chunk_size", "workers", "file"}
    store = tmp_path / "store"
    path = tmp_path / "sweep.toml"

    @BOUNDED_CLI
    @given(sweep_files())
    def check(text):
        path.write_text(text)
        code, err = run_cli(cli, ["sweep", str(path), "--workers", "0", "--store", str(store)])
        if code is not None:
            assert_one_line_error(code, err, allowed)
            assert not store.exists()

    check()


# ---------------------------------------------------------------- what the property test found, pinned

PARITY, MLP = {"name": "parity", "n": 12, "k": 3}, {"name": "mlp", "width": 8}
FOUND = [  # (task, model, other make_config arguments, the field the one-line error must start with)
    ({**PARITY, "n": True}, MLP, {}, "task.n"),  # was n = 1
    ({**PARITY, "n": "12"}, MLP, {}, "task.n"),  # was n = 12, a string silently converted
    ({**PARITY, "disjoint": 1}, MLP, {}, "task.disjoint"),  # was True
    ({"name": "modular-addition", "p": 2**61 - 1}, MLP, {}, "task.p"),  # was minutes of trial division
    ({"name": "high-frequency", "frequency": 3e38}, MLP, {}, "task.frequency"),  # was an infinite frequency
    (PARITY, {**MLP, "init_scale": 1e308}, {}, "model.init_scale"),  # was inf weights and an overflow warning
    (PARITY, {"name": "single-neuron", "activation": "polynomial", "degree": 10**6}, {}, "model.degree"),  # hung
    (PARITY, {"name": "deep-mlp", "depth": 2000}, {}, "model.depth"),  # seconds of tracing per call
    (PARITY, {"name": "mlp", "width": 2**33}, {}, "model.name"),  # built, then out of memory in a worker
    ({**PARITY, "samples": 2**40}, MLP, {}, "task.samples"),  # was an int64 truncation warning
    (PARITY, MLP, {"train": {"batch_size": 2**33}}, "train.batch_size"),  # was an int64 truncation warning
    (PARITY, MLP, {"train": {"data_seed": 2**32}}, "train.data_seed"),  # overflowed uint32 in a worker
    (PARITY, MLP, {"train": {"max_steps": 2**31, "eval_every": 2**31}}, "train.max_steps"),  # int32 steps
    (PARITY, MLP, {"train": {"lanes": 2**40}}, "train.lanes"),
    (PARITY, MLP, {"probes": ["nope"]}, "probes.names"),  # was "probe.name", no section of a config
    ({**PARITY, "n": 16, "k": 8}, MLP, {"probes": ["gradient-variance"]}, "probes"),  # built 3.4 GB first
    ({"name": "high-frequency", "frequency": 1e30}, MLP, {"probes": ["gradient-variance"]}, "probes"),  # 1e32 nodes
    # the disjoint-PolyNet's cross-spec constraints, once first checked in a worker
    (PARITY, {"name": "disjoint-polynet", "degree": 3}, {}, "model.name"),  # parity not disjoint
    ({**PARITY, "disjoint": True}, {"name": "disjoint-polynet", "degree": 2}, {}, "model.degree"),  # k != degree
    ({"name": "modular-addition", "p": 7}, {"name": "disjoint-polynet", "degree": 3}, {}, "model.degree"),  # 14 % 3
]


@pytest.mark.parametrize("task, model, extra, field", FOUND, ids=[f[3] + f"-{i}" for i, f in enumerate(FOUND)])
def test_bad_input_found_by_the_property_test_names_its_field(task, model, extra, field):
    with pytest.raises(GroklabInputError) as err:
        make_config(task, model, **extra)
    assert str(err.value).startswith(f"{field}:") and "\n" not in str(err.value), str(err.value)


def test_make_config_needs_task_and_model_tables():
    for task, model in ((None, MLP), (PARITY, None), (PARITY, "mlp")):
        with pytest.raises(GroklabInputError, match=r"^(task|model): expected a table"):
            make_config(task, model)


def test_a_matching_disjoint_polynet_builds():
    config = make_config({**PARITY, "disjoint": True}, {"name": "disjoint-polynet", "degree": 3})
    assert config.model.degree == config.task.k == 3


@pytest.mark.parametrize("args, field", [(["run", "parity", "--n", "abc"], "--n"),
                                         (["run", "parity", "--bogus", "1"], "--bogus"),
                                         (["run", "parity", "extra"], "arguments"),
                                         (["sweep"], "file")])
def test_cli_usage_errors_are_one_line_naming_the_option(cli, args, field):
    code, out, err = cli(args)
    assert code == 2 and err.startswith(f"error: {field}: ") and err.count("\n") == 1, err


def test_parity_family_sample_is_uniform_over_supports():
    """Every k-subset is equally likely in a `max_hypotheses` sample (the old sample took the
    lexicographically first of its draws, so supports holding high coordinates were almost never
    drawn)."""
    import itertools

    import numpy as np

    from groklab.tasks.parity import ParitySpec, build_parity

    n, k, size, seeds = 10, 2, 10, 300
    task = build_parity(ParitySpec(n=n, k=k))
    supports = list(itertools.combinations(range(n), k))  # 45
    counts = dict.fromkeys(supports, 0)
    for seed in range(seeds):
        family = task.target_family(max_hypotheses=size, seed=seed)
        drawn = [tuple(int(i) for i in s) for s in family.hypotheses]
        assert len(set(drawn)) == size and not family.exhaustive
        for s in drawn:
            counts[s] += 1
    expected = seeds * size / len(supports)  # 66.7 draws per support
    observed = np.array(list(counts.values()))
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < 90, chi2  # chi-square with 44 degrees of freedom: P(> 90) < 1e-4
    assert counts[(n - 2, n - 1)] > expected / 2  # the lexicographically last support is drawn too
